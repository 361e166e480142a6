-- S117_COST_ICB: a row per S117 service line open at period end ($2) on an entitlement in
-- force then, its amount the icb's share of the weekly cost in pounds. By qualifying section
-- (detail). The unit query of perf.kpi_results (sum).
SELECT e.detaining_provider_code AS provider_code, e.responsible_icb_code AS icb_code,
       e.responsible_council_code AS council_code,
       p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS age_band, p.sex,
       1 AS in_num, NULL::int AS in_den, l.weekly_cost_pence * l.icb_pct / 10000.0 AS amount,
       perf.qualifying_section_label(e.qualifying_section) AS detail
FROM perf.s117_in_force($2) e
JOIN core.person p USING (person_id)
JOIN s117.service_line l
  ON l.episode_id = e.episode_id
 AND l.is_s117
 AND l.start_date <= $2
 AND (l.end_date IS NULL OR l.end_date > $2)
