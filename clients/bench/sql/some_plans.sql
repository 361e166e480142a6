-- Ids of up to $1 care plans, not closed, of people the organisation of token $2 sees (a current
-- relationship: the access rule refuses the others, architecture.md, Security), in plan order.
SELECT x.plan_id::text
FROM careplan.plan x
WHERE x.status <> 'CLOSED'
  AND EXISTS (
    SELECT 1
    FROM core.relationship r
    JOIN core.api_token t ON t.org_code = r.org_code
    WHERE t.token_sha256 = sha256(convert_to($2, 'UTF8'))
      AND r.person_id = x.person_id
      AND r.to_at IS NULL
  )
ORDER BY x.plan_id
LIMIT $1
