-- NHS numbers and person ids of up to $1 living people the organisation of token $2 sees
-- (core.can_see: a current relationship; the access rule refuses the others, architecture.md),
-- in person order.
SELECT x.nhs_number, x.person_id::text
FROM core.person x
JOIN core.api_token t ON t.token_sha256 = sha256(convert_to($2, 'UTF8'))
WHERE x.date_of_death IS NULL
  AND core.can_see(x.person_id, t.org_code)
ORDER BY x.person_id
LIMIT $1
