-- Referrals opened deferred to the end of a batch (PendingWrites), one row per element of the
-- arrays: $1 is the organisation, then one text array per column (person, referral id, provider,
-- team type, service area, received date, source), rows in order. Returns the key of every row it
-- wrote, so a row it did not write (already recorded) is known.
INSERT INTO core.referral (person_id, source_org, referral_id, provider_code, team_type,
  service_area, received_date, source_of_referral)
SELECT u.p::uuid, $1, u.id, u.prov, u.team, u.area, u.rd::date, u.src
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
  WITH ORDINALITY AS u(p, id, prov, team, area, rd, src, n)
ORDER BY u.n
ON CONFLICT DO NOTHING
RETURNING referral_id
