-- Gives every organisation that has signed off plan $1 (of person $2) a role on it.
INSERT INTO careplan.plan_org (person_id, org_code, plan_id)
SELECT DISTINCT $2::uuid, org_code, plan_id
FROM careplan.signoff
WHERE plan_id = $1::uuid
ON CONFLICT DO NOTHING
