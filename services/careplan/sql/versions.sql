-- Plan $1's versions after $2, oldest first, at most $3: version, status, change, change
-- reason, created at (µs since the epoch), created by organisation and role.
SELECT version, status, change, change_reason,
  (extract(epoch FROM created_at) * 1000000)::bigint, created_by_org, created_by_role
FROM careplan.plan_version
WHERE plan_id = $1::uuid
  AND version > $2
ORDER BY version
LIMIT $3
