-- S117_DISPUTES_3M: a row per S117 entitlement whose dispute between councils was open at period
-- end ($2) and had been opened more than 3 months before it (perf.s117_long_disputes), by
-- qualifying section (detail). The unit query of perf.kpi_results.
SELECT provider_code, icb_code, council_code, eth_code, age_band, sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount, section AS detail
FROM perf.s117_long_disputes($2)
