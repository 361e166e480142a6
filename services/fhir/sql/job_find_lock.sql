-- The state of export job $1 of organisation $2, unless cancelled or expired, locked for a
-- cancellation.
SELECT state FROM fhir.export_job
WHERE job_id = $1::uuid AND org_code = $2 AND state <> 'cancelled' AND expires_at > now()
FOR UPDATE
