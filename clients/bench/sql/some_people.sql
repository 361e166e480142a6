-- NHS numbers and person ids of up to $1 living people the organisation of the token whose digest is $2 (TokenDigest) sees
-- (core.can_see: a current relationship; the access rule refuses the others, architecture.md),
-- in person order.
SELECT x.nhs_number, x.person_id::text
FROM core.person x
JOIN core.api_token t ON t.token_sha256 = $2
WHERE x.date_of_death IS NULL
  AND core.can_see(x.person_id, t.org_code)
ORDER BY x.person_id
LIMIT $1
