-- Discharges, deferred like the inserts and written after them: $1 is the organisation, then one
-- text array per column (person, spell id, discharged at in seconds since the epoch, the same as
-- a timestamp, method, destination or ''). A spell is updated only when it exists for that
-- person, is not discharged and was admitted no later (whole seconds); returns the id of every
-- spell it updated (spell_get tells why another was not).
UPDATE core.hospital_spell s
SET discharged_at = u.at::timestamptz, discharge_method = u.method,
  discharge_destination = nullif(u.dest, '')
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
  AS u(p, id, secs, at, method, dest)
WHERE s.source_org = $1
  AND s.spell_id = u.id
  AND s.person_id = u.p::uuid
  AND s.discharged_at IS NULL
  AND u.secs::bigint >= (extract(epoch FROM s.admitted_at))::bigint
RETURNING s.spell_id
