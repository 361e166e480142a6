-- Ids of running export jobs whose worker has not reported for $1 seconds (its replica
-- stopped), marked failed.
UPDATE fhir.export_job
SET state = 'failed', error = 'the export stopped before it finished (its server stopped); start it again'
WHERE state = 'running' AND heartbeat_at < now() - make_interval(secs => $1::bigint)
RETURNING job_id::text
