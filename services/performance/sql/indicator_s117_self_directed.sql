-- S117_SELF_DIRECTED: a row per S117 entitlement in force at period end ($2) that has an S117
-- service line open then by direct payment or personal health budget. By qualifying section
-- (detail). The unit query of perf.kpi_results.
SELECT e.detaining_provider_code AS provider_code, e.responsible_icb_code AS icb_code,
       e.responsible_council_code AS council_code,
       p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS age_band, p.sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount,
       perf.qualifying_section_label(e.qualifying_section) AS detail
FROM perf.s117_in_force($2) e
JOIN core.person p USING (person_id)
WHERE EXISTS (SELECT 1
              FROM s117.service_line l
              WHERE l.episode_id = e.episode_id
                AND l.is_s117
                AND l.delivery_mode IN ('DIRECT_PAYMENT', 'PHB')
                AND l.start_date <= $2
                AND (l.end_date IS NULL OR l.end_date > $2))
