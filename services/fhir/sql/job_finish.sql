-- Nothing: running export job $1 ends in state $2 ('done' or 'failed') with error $3.
UPDATE fhir.export_job
SET state = $2, error = $3, heartbeat_at = now()
WHERE job_id = $1::uuid AND state = 'running'
