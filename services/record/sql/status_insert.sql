-- Status observations (employment, accommodation) deferred to the end of a batch
-- (PendingWrites): $1 is the recording organisation, then one text array per column (person,
-- list, code, recorded date, weekly hours or ''), rows in order. They have no key: every row is
-- written, and each returns an empty key.
INSERT INTO core.status_observation (person_id, list_name, code, recorded_date, weekly_hours,
  recording_org)
SELECT u.p::uuid, u.list, u.code, u.d::date, nullif(u.hours, '')::int, $1
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
  WITH ORDINALITY AS u(p, list, code, d, hours, n)
ORDER BY u.n
RETURNING ''
