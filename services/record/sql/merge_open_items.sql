-- What of person $1 may be open only once per person, for a merge's check: open S117
-- entitlements (kind 's117_entitlement') and open care plans (kind 'care_plan:<type>'), with
-- their ids.
SELECT 's117_entitlement', episode_id::text FROM s117.episode
WHERE person_id = $1::uuid AND state IN ('PLANNED', 'ACTIVE')
UNION ALL
SELECT 'care_plan:' || CASE WHEN is_s117_aftercare_plan THEN 's117_aftercare' ELSE 'default' END,
       plan_id::text
FROM careplan.plan WHERE person_id = $1::uuid AND status <> 'CLOSED'
ORDER BY 1, 2
