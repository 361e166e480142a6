-- The plan organisation $1 imported under source reference $2, if any: plan id and whether it
-- was imported from the row $3 (JSON: the same content).
SELECT plan_id::text, source_row = $3::jsonb
FROM careplan.plan
WHERE created_by_org = $1
  AND source_ref = $2
