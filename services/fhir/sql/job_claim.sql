-- The oldest queued export job, marked running and claimed by this transaction (SKIP LOCKED, so
-- workers of several replicas share the table): job id, organisation, role, purpose of use,
-- request id, member organisation, member kinds (NULL: any), types, since (RFC 3339, '' for
-- none).
UPDATE fhir.export_job j SET state = 'running', heartbeat_at = now()
FROM (SELECT job_id FROM fhir.export_job
      WHERE state = 'queued'
      ORDER BY created_at
      LIMIT 1
      FOR UPDATE SKIP LOCKED) q
WHERE j.job_id = q.job_id
RETURNING j.job_id::text, j.org_code, j.role, j.purpose_of_use, j.request_id, j.member_org,
  j.member_kinds, j.types,
  coalesce(to_char(j.since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '')
