-- Nothing: audits one action on person $3 (NULL for none) by organisation $1 in role $2.
INSERT INTO core.audit (org_code, role, person_id, action, purpose_of_use, request_id, outcome,
  break_glass_reason)
VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8)
