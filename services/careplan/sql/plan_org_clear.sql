-- Takes away every organisation's role on plan $1 (before they are set again).
DELETE FROM careplan.plan_org
WHERE plan_id = $1::uuid
