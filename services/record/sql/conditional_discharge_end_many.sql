-- Conditional discharges ended, deferred like the inserts and written after them: $1 is the
-- organisation, then one text array per column (person, id, end date, reason, who was
-- responsible for an absolute discharge). Updated only when it exists for that person, has not
-- ended and started no later; returns the id of every row it updated (conditional_discharge_get
-- tells why another was not).
UPDATE core.conditional_discharge c
SET end_date = u.d::date, end_reason = u.reason, absolute_discharge_responsible = u.resp
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
  AS u(p, id, d, reason, resp)
WHERE c.source_org = $1
  AND c.conditional_discharge_id = u.id
  AND c.person_id = u.p::uuid
  AND c.end_date IS NULL
  AND u.d::date >= c.start_date
RETURNING c.conditional_discharge_id
