-- DISCHARGED_WITHOUT_ENTITLEMENT: people whose council ($1 = 'council') or ICB ($1 = 'icb') is
-- $2, discharged by $3 from a hospital stay during which they were detained under a section that
-- qualifies (core.mha_legal_status.s117_qualifying = 'yes'), with no entitlement (other than
-- VOID) whose detention started on or before that discharge and which had not ended before that
-- detention began: person id, NHS number, entitlement id (''), detail (the latest such stay).
SELECT DISTINCT ON (p.nhs_number)
  p.person_id::text, p.nhs_number, '',
  'detained under ' || d.legal_status_code || ' from '
    || (d.started_at AT TIME ZONE 'Europe/London')::date || ' by ' || d.provider_code
    || ', discharged by ' || s.provider_code || ' on '
    || (s.discharged_at AT TIME ZONE 'Europe/London')::date || '; no entitlement'
FROM core.person p
JOIN core.hospital_spell s ON s.person_id = p.person_id
JOIN core.detention d ON d.person_id = p.person_id
JOIN core.mha_legal_status l ON l.code = d.legal_status_code AND l.s117_qualifying = 'yes'
WHERE CASE $1 WHEN 'council' THEN p.council_code = $2 WHEN 'icb' THEN p.icb_code = $2 ELSE false END
  AND s.discharged_at IS NOT NULL
  AND (s.discharged_at AT TIME ZONE 'Europe/London')::date <= $3::date
  AND d.started_at <= s.discharged_at
  AND (d.ended_at IS NULL OR d.ended_at >= s.admitted_at)
  AND NOT EXISTS (
    SELECT 1
    FROM s117.episode e
    WHERE e.person_id = p.person_id
      AND e.state <> 'VOID'
      AND e.detention_start_date <= (s.discharged_at AT TIME ZONE 'Europe/London')::date
      AND (e.ended_on IS NULL OR e.ended_on >= (d.started_at AT TIME ZONE 'Europe/London')::date))
ORDER BY p.nhs_number, s.discharged_at DESC
