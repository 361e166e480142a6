-- S117_REVIEWED_12M: a row per S117 entitlement in force at period end ($2) since at least 12
-- months before it, counted when it had a joint review in the 12 months to period end: both the
-- council and health attended (s117.review.joint; a single-agency review, or one imported
-- without its attendance, does not count). By qualifying section (detail). The unit query of
-- perf.kpi_results.
SELECT e.provider_code, e.icb_code, e.council_code, e.eth_code, e.age_band, e.sex,
       CASE WHEN EXISTS (SELECT 1
                         FROM s117.review r
                         WHERE r.episode_id = e.episode_id
                           AND r.review_date > ($2::date - interval '12 months')::date
                           AND r.review_date <= $2
                           AND r.joint)
            THEN 1 ELSE 0 END AS in_num,
       1 AS in_den, NULL::numeric AS amount, e.section AS detail
FROM perf.s117_units($2) e
WHERE e.effective_from <= ($2::date - interval '12 months')::date
