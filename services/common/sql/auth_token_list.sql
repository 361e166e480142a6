-- Tokens as the admin commands show them: id (the first 12 hex digits of the hash),
-- organisation, role, label, created and revoked (UTC, '' when live); of organisation $1 ('' for
-- all), only the live ones when $2.
SELECT substr(encode(token_sha256, 'hex'), 1, 12), org_code, role, label,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"Z"'),
  coalesce(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"Z"'), '')
FROM core.api_token
WHERE ($1 = '' OR org_code = $1)
  AND (NOT $2 OR revoked_at IS NULL)
ORDER BY org_code, created_at
