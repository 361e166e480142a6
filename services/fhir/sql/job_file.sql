-- 1 when file $3 belongs to completed export job $1 of organisation $2, unexpired.
SELECT 1
FROM fhir.export_job j
JOIN fhir.export_file f ON f.job_id = j.job_id
WHERE j.job_id = $1::uuid AND j.org_code = $2 AND j.state = 'done' AND j.expires_at > now()
  AND f.name = $3
