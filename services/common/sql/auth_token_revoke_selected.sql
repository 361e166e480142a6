-- The tokens revoked now, as auth_token_list shows them. One of $1 (a token's hash), $2 (its id)
-- and $3 (an organisation) is set, the others empty.
UPDATE core.api_token SET revoked_at = now()
WHERE revoked_at IS NULL
  AND (token_sha256 = $1 OR substr(encode(token_sha256, 'hex'), 1, 12) = $2 OR org_code = $3)
RETURNING substr(encode(token_sha256, 'hex'), 1, 12), org_code, role, label,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"Z"'),
  coalesce(to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS"Z"'), '')
