-- The id of a new queued export job of organisation $1 (role $2, purpose of use $3, request id
-- $4, or the job's own id when $4 is empty), at level $5 for group $6, of the people organisation
-- $7 currently has a relationship with of kinds $8 (NULL: any), resource types $9, changed after
-- $10 (NULL: all), asked for by URL $11, expiring $12 seconds from now; no row when the
-- organisation has a job queued or running already.
INSERT INTO fhir.export_job (job_id, org_code, role, purpose_of_use, request_id, level, group_id,
  member_org, member_kinds, types, since, request_url, expires_at)
SELECT id, $1, $2, $3, coalesce(nullif($4::text, ''), id::text), $5, $6, $7, $8::text[],
  $9::text[], $10::timestamptz, $11, now() + make_interval(secs => $12::bigint)
FROM (SELECT gen_random_uuid() AS id) g
ON CONFLICT (org_code) WHERE state IN ('queued', 'running') DO NOTHING
RETURNING job_id::text
