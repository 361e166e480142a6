-- What names organisation $1 as its $2 ('council' or 'icb') and would move with a succession:
-- open S117 entitlements (responsible body), open care plans (the council or ICB the version in
-- force acts for) and people (their council or ICB). Entity, its id, the person and their
-- postcode (for a split's proposal).
SELECT 's117_episode', e.episode_id::text, e.person_id::text, p.postcode
FROM s117.episode e
JOIN core.person p ON p.person_id = e.person_id
WHERE e.state IN ('PLANNED', 'ACTIVE')
  AND (($2 = 'council' AND e.responsible_council_code = $1)
       OR ($2 = 'icb' AND e.responsible_icb_code = $1))
UNION ALL
SELECT 'care_plan', c.plan_id::text, c.person_id::text, p.postcode
FROM careplan.plan c
JOIN careplan.plan_version v ON v.plan_id = c.plan_id AND v.version = c.current_version
JOIN core.person p ON p.person_id = c.person_id
WHERE c.status <> 'CLOSED'
  AND v.content->>('acting_for_' || $2 || '_code') = $1
UNION ALL
SELECT 'person', p.person_id::text, p.person_id::text, p.postcode
FROM core.person p
WHERE ($2 = 'council' AND p.council_code = $1) OR ($2 = 'icb' AND p.icb_code = $1)
ORDER BY 1, 2
