-- Community treatment orders started, deferred to the end of a batch (PendingWrites), one row per
-- element of the arrays: $1 is the organisation, then one text array per column (person, CTO id,
-- detention id, provider, start date, expiry date or ''), rows in order. Returns the key of every
-- row it wrote, so a row it did not write (already recorded) is known.
INSERT INTO core.community_treatment_order (person_id, source_org, cto_id, detention_id,
  provider_code, start_date, expiry_date)
SELECT u.p::uuid, $1, u.id, u.det, u.prov, u.d::date, nullif(u.exp, '')::date
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
  WITH ORDINALITY AS u(p, id, det, prov, d, exp, n)
ORDER BY u.n
ON CONFLICT DO NOTHING
RETURNING cto_id
