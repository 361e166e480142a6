-- S117_ACTIVE: a row per S117 entitlement in force at period end ($2), by its responsible bodies
-- and qualifying section (detail). The unit query of perf.kpi_results.
SELECT provider_code, icb_code, council_code, eth_code, age_band, sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount, section AS detail
FROM perf.s117_units($2)
