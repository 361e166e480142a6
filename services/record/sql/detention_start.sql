-- Detentions started deferred to the end of a batch (PendingWrites), one row per element of the
-- arrays: $1 is the organisation, then one text array per column (person, detention id, legal
-- status, started at, spell id, provider), rows in order. Returns the key of every row it wrote, so
-- a row it did not write (already recorded) is known.
INSERT INTO core.detention (person_id, source_org, detention_id, legal_status_code, started_at,
  spell_id, provider_code)
SELECT u.p::uuid, $1, u.id, u.code, u.at::timestamptz, u.spell, u.prov
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
  WITH ORDINALITY AS u(p, id, code, at, spell, prov, n)
ORDER BY u.n
ON CONFLICT DO NOTHING
RETURNING detention_id
