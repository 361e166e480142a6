-- Nothing: audits one action ($4) by organisation $1 in role $2 on each person of $3.
INSERT INTO core.audit (org_code, role, person_id, action, purpose_of_use, request_id, outcome,
  break_glass_reason)
SELECT $1, $2, p, $4, $5, $6, $7, $8
FROM unnest($3::uuid[]) AS p
