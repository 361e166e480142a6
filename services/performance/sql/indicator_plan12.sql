-- PLAN12: a row per adult open to mental health services at period end ($2) since at least 12
-- months before it and alive then, counted when a care plan was agreed (perf.agreed_plans) or
-- reviewed in the 12 months to period end. The unit query of perf.kpi_results.
SELECT o.provider_code, p.icb_code, p.council_code, p.eth_code, p.age_band, p.sex,
       CASE WHEN EXISTS (SELECT 1
                         FROM perf.agreed_plans() a
                         WHERE a.person_id = o.person_id
                           AND a.agreed_on > ($2::date - interval '12 months')::date
                           AND a.agreed_on <= $2)
              OR EXISTS (SELECT 1
                         FROM careplan.review r
                         WHERE r.person_id = o.person_id
                           AND r.review_date > ($2::date - interval '12 months')::date
                           AND r.review_date <= $2)
            THEN 1 ELSE 0 END AS in_num,
       1 AS in_den, NULL::numeric AS amount
FROM perf.open_adult_mh($2) o
JOIN perf.person_units($2) p USING (person_id)
WHERE o.received_date <= ($2::date - interval '12 months')::date
  AND (p.date_of_death IS NULL OR p.date_of_death > $2)
