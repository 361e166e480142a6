-- CHARGED_WHILE_ENTITLED: open (PLANNED, ACTIVE) entitlements of which the council
-- ($1 = 'council') or ICB ($1 = 'icb') $2 is a responsible body whose person is charged on $3 for
-- a need arising from the mental disorder: a service line of the entitlement with a client
-- contribution, open on or after the day the entitlement took effect; or an intervention of the
-- person's open care plan (its current version) with a client charge, in progress on $3, meeting
-- a need the plan says arises from the mental disorder. Person id, NHS number, entitlement id,
-- detail (ids, dates and codes), the charge in pence (shown by the caller).
SELECT e.person_id::text, p.nhs_number, e.episode_id::text,
  'service line ' || l.service_line_id || ' (' || l.service_type || ') from ' || l.start_date
    || ': client contribution ',
  l.client_contribution_pence, ' a week'
FROM s117.episode e
JOIN core.person p ON p.person_id = e.person_id
JOIN s117.service_line l ON l.episode_id = e.episode_id
WHERE CASE $1 WHEN 'council' THEN e.responsible_council_code = $2
              WHEN 'icb' THEN e.responsible_icb_code = $2 ELSE false END
  AND e.state IN ('PLANNED', 'ACTIVE')
  AND l.client_contribution_pence > 0
  AND l.need_arises_from_mental_disorder
  AND l.start_date <= $3::date
  AND (l.end_date IS NULL
       OR l.end_date >= coalesce(e.effective_from, e.left_hospital_date, e.detention_start_date))
UNION ALL
SELECT e.person_id::text, p.nhs_number, e.episode_id::text,
  'care plan ' || cp.plan_id || ' intervention ' || (i.v ->> 'intervention_id')
    || coalesce(' from ' || nullif(i.v ->> 'start_date', ''), '') || ': client charge ',
  (i.v ->> 'client_charge_pence')::bigint, ''
FROM s117.episode e
JOIN core.person p ON p.person_id = e.person_id
JOIN careplan.plan cp ON cp.person_id = e.person_id AND cp.status <> 'CLOSED'
JOIN careplan.plan_version v ON v.plan_id = cp.plan_id AND v.version = cp.current_version
CROSS JOIN LATERAL jsonb_array_elements(coalesce(v.content -> 'interventions', '[]')) AS i(v)
WHERE CASE $1 WHEN 'council' THEN e.responsible_council_code = $2
              WHEN 'icb' THEN e.responsible_icb_code = $2 ELSE false END
  AND e.state IN ('PLANNED', 'ACTIVE')
  AND coalesce((i.v ->> 'client_charge_pence')::bigint, 0) > 0
  AND coalesce(nullif(i.v ->> 'start_date', ''), '0001-01-01')::date <= $3::date
  AND coalesce(nullif(i.v ->> 'end_date', ''), '9999-12-31')::date >= $3::date
  AND EXISTS (
    SELECT 1
    FROM jsonb_array_elements(coalesce(v.content -> 'needs', '[]')) AS n(v)
    WHERE coalesce((n.v ->> 'arises_from_mental_disorder')::boolean, false)
      AND coalesce(i.v -> 'need_ids', '[]') ? (n.v ->> 'need_id'))
ORDER BY 2, 3, 4
