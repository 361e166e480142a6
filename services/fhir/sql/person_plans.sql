-- Plan ids of person $1's care plans that are not CLOSED, in id order.
SELECT plan_id::text
FROM careplan.plan
WHERE person_id = $1::uuid AND status <> 'CLOSED'
ORDER BY plan_id
