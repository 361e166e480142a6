-- The state of export job $1, locked against concurrent changes (no row: it was removed).
SELECT state FROM fhir.export_job WHERE job_id = $1::uuid FOR UPDATE
