-- PLAN12: a row per adult open to mental health services at period end ($2) since at least 12
-- months before it and alive then, counted when a care plan was agreed or reviewed in the 12
-- months to period end. The unit query of perf.kpi_results.
SELECT o.provider_code, p.icb_code, p.council_code,
       p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS age_band, p.sex,
       CASE WHEN EXISTS (SELECT 1
                         FROM careplan.plan cp
                         JOIN careplan.plan_version v USING (plan_id)
                         WHERE cp.person_id = o.person_id
                           AND v.change = 'agreed'
                           AND perf.local_date(v.created_at) > ($2::date - interval '12 months')::date
                           AND perf.local_date(v.created_at) <= $2)
              OR EXISTS (SELECT 1
                         FROM careplan.review r
                         WHERE r.person_id = o.person_id
                           AND r.review_date > ($2::date - interval '12 months')::date
                           AND r.review_date <= $2)
            THEN 1 ELSE 0 END AS in_num,
       1 AS in_den,
       NULL::numeric AS amount
FROM perf.open_adult_mh($2) o
JOIN core.person p USING (person_id)
WHERE o.received_date <= ($2::date - interval '12 months')::date
  AND (p.date_of_death IS NULL OR p.date_of_death > $2)
