-- S117_SELF_DIRECTED: a row per S117 entitlement in force at period end ($2) that has an S117
-- service line open then by direct payment or personal health budget. By qualifying section
-- (detail). The unit query of perf.kpi_results.
SELECT e.provider_code, e.icb_code, e.council_code, e.eth_code, e.age_band, e.sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount, e.section AS detail
FROM perf.s117_units($2) e
WHERE EXISTS (SELECT 1
              FROM perf.s117_open_lines($2) l
              WHERE l.episode_id = e.episode_id
                AND l.delivery_mode IN ('DIRECT_PAYMENT', 'PHB'))
