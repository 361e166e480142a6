-- Nothing: removes export job $1 and its file rows.
DELETE FROM fhir.export_job WHERE job_id = $1::uuid
