-- Detentions ended, deferred like the inserts and written after them: $1 is the organisation,
-- then one text array per column (person, detention id, ended at in seconds since the epoch, the
-- same as a timestamp, reason). A detention is updated only when it exists for that person, has
-- not ended and started no later (whole seconds); returns the id of every detention it updated
-- (detention_get tells why another was not).
UPDATE core.detention d
SET ended_at = u.at::timestamptz, end_reason = u.reason
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
  AS u(p, id, secs, at, reason)
WHERE d.source_org = $1
  AND d.detention_id = u.id
  AND d.person_id = u.p::uuid
  AND d.ended_at IS NULL
  AND u.secs::bigint >= (extract(epoch FROM d.started_at))::bigint
RETURNING d.detention_id
