-- Resolves open work item $1 to successor $2, by organisation $3 in role $4.
UPDATE core.succession_work
SET status = 'RESOLVED', resolved_code = $2, resolved_by_org = $3, resolved_by_role = $4,
  resolved_at = now()
WHERE work_id = $1::uuid
  AND status = 'OPEN'
