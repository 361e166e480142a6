-- S117_STALE: a row per S117 entitlement in force at period end ($2) that is stale then
-- (s117.stale, the register's rule: no referral open and no review within the policy's
-- stale_after_months, 12 unless changed). By qualifying section (detail). The unit query of
-- perf.kpi_results.
SELECT e.detaining_provider_code AS provider_code, e.responsible_icb_code AS icb_code,
       e.responsible_council_code AS council_code,
       p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS age_band, p.sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount,
       perf.qualifying_section_label(e.qualifying_section) AS detail
FROM perf.s117_in_force($2) e
JOIN core.person p USING (person_id)
WHERE s117.stale(e.person_id, e.episode_id, $2)
