-- Referrals closed, deferred like the inserts and written after them (they update rows the
-- inserts may have written): $1 is the organisation, then one text array per column (person,
-- referral id, closed date, reason). A row is updated only when it exists for that person, is
-- still open and was received no later; returns the id of every row it updated (referral_get
-- tells why another was not).
UPDATE core.referral r
SET closed_date = u.d::date, close_reason = u.reason
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(p, id, d, reason)
WHERE r.source_org = $1
  AND r.referral_id = u.id
  AND r.person_id = u.p::uuid
  AND r.closed_date IS NULL
  AND u.d::date >= r.received_date
RETURNING r.referral_id
