-- Gives organisation $3 a role on plan $1 (of person $2); once only.
INSERT INTO careplan.plan_org (person_id, org_code, plan_id)
VALUES ($2::uuid, $3, $1::uuid)
ON CONFLICT DO NOTHING
