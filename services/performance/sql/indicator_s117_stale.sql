-- S117_STALE: a row per S117 entitlement in force at period end ($2) that is stale then
-- (s117.stale, the register's rule: no referral open and no review within the policy's
-- stale_after_months, 12 unless changed). By qualifying section (detail). The unit query of
-- perf.kpi_results.
SELECT provider_code, icb_code, council_code, eth_code, age_band, sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount, section AS detail
FROM perf.s117_units($2)
WHERE s117.stale(person_id, episode_id, $2)
