-- ENTITLEMENT_WITHOUT_DETENTION: open (PLANNED, ACTIVE) entitlements of which the council
-- ($1 = 'council') or ICB ($1 = 'icb') $2 is a responsible body, whose own detention is not in
-- the record and for whose person the record knows no detention under a qualifying section
-- (s117_qualifying = 'yes') begun by $3 (imported or hand-entered entitlements): person id, NHS
-- number, entitlement id, detail.
SELECT e.person_id::text, p.nhs_number, e.episode_id::text,
  e.state || ', section ' || e.qualifying_section || ' detained from ' || e.detention_start_date
    || ' by ' || e.detaining_provider_code || '; no qualifying detention in the record'
FROM s117.episode e
JOIN core.person p ON p.person_id = e.person_id
WHERE CASE $1 WHEN 'council' THEN e.responsible_council_code = $2
              WHEN 'icb' THEN e.responsible_icb_code = $2 ELSE false END
  AND e.state IN ('PLANNED', 'ACTIVE')
  AND NOT EXISTS (
    SELECT 1
    FROM core.detention d
    WHERE d.source_org = e.detention_source_org AND d.detention_id = e.detention_id)
  AND NOT EXISTS (
    SELECT 1
    FROM core.detention d
    JOIN core.mha_legal_status l ON l.code = d.legal_status_code AND l.s117_qualifying = 'yes'
    WHERE d.person_id = e.person_id
      AND (d.started_at AT TIME ZONE 'Europe/London')::date <= $3::date)
ORDER BY p.nhs_number, e.episode_id
