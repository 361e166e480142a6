-- Nothing: records running job $1's transaction time $2 and number of people $3.
UPDATE fhir.export_job
SET transaction_time = $2::timestamptz, people_total = $3, heartbeat_at = now()
WHERE job_id = $1::uuid
