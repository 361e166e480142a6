-- Community treatment orders ended, deferred like the inserts and written after them: $1 is the
-- organisation, then one text array per column (person, CTO id, end date, reason). A CTO is
-- updated only when it exists for that person, has not ended and started no later; returns the
-- id of every CTO it updated (cto_get tells why another was not).
UPDATE core.community_treatment_order c
SET end_date = u.d::date, end_reason = u.reason
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(p, id, d, reason)
WHERE c.source_org = $1
  AND c.cto_id = u.id
  AND c.person_id = u.p::uuid
  AND c.end_date IS NULL
  AND u.d::date >= c.start_date
RETURNING c.cto_id
