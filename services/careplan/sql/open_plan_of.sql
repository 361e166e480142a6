-- Person $1's plan that is not CLOSED (at most one): plan id.
SELECT plan_id::text
FROM careplan.plan
WHERE person_id = $1::uuid
  AND status <> 'CLOSED'
