-- The organisation and role of the live token whose digest (TokenDigest) is $1; no row when none.
SELECT org_code, role
FROM core.api_token
WHERE token_sha256 = $1 AND revoked_at IS NULL
