-- S117_COST_ICB: a row per S117 service line open at period end ($2) on an entitlement in
-- force then, its amount the ICB's share of the weekly cost in pounds. By qualifying section
-- (detail). The unit query of perf.kpi_results (sum).
SELECT e.provider_code, e.icb_code, e.council_code, e.eth_code, e.age_band, e.sex,
       1 AS in_num, NULL::int AS in_den, l.weekly_cost_pence * l.icb_pct / 10000.0 AS amount,
       e.section AS detail
FROM perf.s117_units($2) e
JOIN perf.s117_open_lines($2) l USING (episode_id)
