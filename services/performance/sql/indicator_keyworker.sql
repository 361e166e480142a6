-- KEYWORKER: a row per adult open to mental health services at period end ($2) and alive then,
-- counted when a key worker was allocated on that date. The unit query of perf.kpi_results.
SELECT o.provider_code, p.icb_code, p.council_code, p.eth_code, p.age_band, p.sex,
       CASE WHEN EXISTS (SELECT 1
                         FROM core.key_worker k
                         WHERE k.person_id = o.person_id
                           AND k.start_date <= $2
                           AND (k.end_date IS NULL OR k.end_date > $2))
            THEN 1 ELSE 0 END AS in_num,
       1 AS in_den, NULL::numeric AS amount
FROM perf.open_adult_mh($2) o
JOIN perf.person_units($2) p USING (person_id)
WHERE p.date_of_death IS NULL OR p.date_of_death > $2
