-- Nothing: $2 more people of export job $1 were written.
UPDATE fhir.export_job
SET people_done = people_done + $2, heartbeat_at = now()
WHERE job_id = $1::uuid
