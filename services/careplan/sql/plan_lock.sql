-- Locks plan $1 against concurrent writers (a writer then reads it with plan_find.sql).
SELECT 1
FROM careplan.plan
WHERE plan_id = $1::uuid
FOR UPDATE
