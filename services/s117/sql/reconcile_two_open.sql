-- TWO_OPEN_ENTITLEMENTS: open (PLANNED, ACTIVE) entitlements of people with more than one, of
-- which the council ($1 = 'council') or ICB ($1 = 'icb') $2 is a responsible body ($3, the day of
-- the report, is not needed: open is now): person id, NHS number, entitlement id, detail. The
-- one-open-per-person index and the unique NHS number make this empty unless they are lifted.
SELECT e.person_id::text, p.nhs_number, e.episode_id::text,
  e.state || ', section ' || e.qualifying_section || ' from ' || e.detention_start_date
    || '; ' || n.open || ' open entitlements for this NHS number'
FROM s117.episode e
JOIN core.person p ON p.person_id = e.person_id
JOIN (
  SELECT p2.nhs_number, count(*) AS open
  FROM s117.episode e2
  JOIN core.person p2 ON p2.person_id = e2.person_id
  WHERE e2.state IN ('PLANNED', 'ACTIVE')
  GROUP BY p2.nhs_number
  HAVING count(*) > 1) n ON n.nhs_number = p.nhs_number
WHERE CASE $1 WHEN 'council' THEN e.responsible_council_code = $2
              WHEN 'icb' THEN e.responsible_icb_code = $2 ELSE false END
  AND e.state IN ('PLANNED', 'ACTIVE')
  AND $3::date IS NOT NULL
ORDER BY p.nhs_number, e.episode_id
