-- NHS numbers of up to $1 living people that the organisation of token $2 sees (a current
-- relationship: the access rule refuses the others, architecture.md, Security), in person order.
SELECT x.nhs_number
FROM core.person x
WHERE x.date_of_death IS NULL
  AND EXISTS (
    SELECT 1
    FROM core.relationship r
    JOIN core.api_token t ON t.org_code = r.org_code
    WHERE t.token_sha256 = sha256(convert_to($2, 'UTF8'))
      AND r.person_id = x.person_id
      AND r.to_at IS NULL
  )
ORDER BY x.person_id
LIMIT $1
