-- Admissions deferred to the end of a batch (PendingWrites), one row per element of the arrays: $1
-- is the organisation, then one text array per column (person, spell id, provider, referral id,
-- admitted at, bed type, admission method), rows in order. Returns the key of every row it wrote,
-- so a row it did not write (already recorded) is known.
INSERT INTO core.hospital_spell (person_id, source_org, spell_id, provider_code, referral_id,
  admitted_at, bed_type, admission_method)
SELECT u.p::uuid, $1, u.id, u.prov, u.ref, u.at::timestamptz, u.bed, u.method
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
  WITH ORDINALITY AS u(p, id, prov, ref, at, bed, method, n)
ORDER BY u.n
ON CONFLICT DO NOTHING
RETURNING spell_id
