-- Conditional discharges started, deferred to the end of a batch (PendingWrites), one row per
-- element of the arrays: $1 is the organisation, then one text array per column (person,
-- conditional discharge id, detention id, provider, start date), rows in order. Returns the key
-- of every row it wrote, so a row it did not write (already recorded) is known.
INSERT INTO core.conditional_discharge (person_id, source_org, conditional_discharge_id,
  detention_id, provider_code, start_date)
SELECT u.p::uuid, $1, u.id, u.det, u.prov, u.d::date
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
  WITH ORDINALITY AS u(p, id, det, prov, d, n)
ORDER BY u.n
ON CONFLICT DO NOTHING
RETURNING conditional_discharge_id
