-- Care contacts deferred to the end of a batch (PendingWrites), one row per element of the arrays:
-- $1 is the organisation, then one text array per column (person, contact id, referral id, date,
-- attended, attend status, mechanism, team type), rows in order. Returns the key of every row it
-- wrote, so a row it did not write (already recorded) is known.
INSERT INTO core.care_contact (person_id, source_org, contact_id, referral_id, contact_date,
  attended, attend_status, consultation_mechanism, team_type)
SELECT u.p::uuid, $1, u.id, u.ref, u.d::date, u.att::boolean, u.status, u.mech, u.team
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[])
  WITH ORDINALITY AS u(p, id, ref, d, att, status, mech, team, n)
ORDER BY u.n
ON CONFLICT DO NOTHING
RETURNING contact_id
