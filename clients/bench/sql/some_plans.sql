-- Ids of up to $1 care plans, not closed, of people the organisation of the token whose digest is $2 (TokenDigest) sees
-- (core.can_see: a current relationship; the access rule refuses the others), in plan order.
SELECT x.plan_id::text
FROM careplan.plan x
JOIN core.api_token t ON t.token_sha256 = $2
WHERE x.status <> 'CLOSED'
  AND core.can_see(x.person_id, t.org_code)
ORDER BY x.plan_id
LIMIT $1
