-- Moves the live API tokens of organisation $1 to its successor $2 (effective $3, applied by
-- $4), each with its dated row in core.succession_move (entity_id: the token's id, the first 12
-- hex digits of its hash). One row per token moved.
WITH moved AS (
  UPDATE core.api_token
  SET org_code = $2
  WHERE org_code = $1
    AND revoked_at IS NULL
  RETURNING substr(encode(token_sha256, 'hex'), 1, 12) AS id
)
INSERT INTO core.succession_move (entity, entity_id, role, from_code, to_code, effective_on,
  applied_by)
SELECT 'api_token', id, 'org', $1, $2, $3::date, $4
FROM moved
RETURNING entity_id
