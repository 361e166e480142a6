-- Export job $1's files: type, name, count, by type and number.
SELECT type, name, count FROM fhir.export_file WHERE job_id = $1::uuid ORDER BY type, seq
