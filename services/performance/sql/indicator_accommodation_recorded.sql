-- ACCOMMODATION_RECORDED: a row per adult aged 18 to 69 open to mental health services at period end
-- ($2) and alive then, counted when a accommodation_status was recorded in the 12 months to period
-- end. The unit query of perf.kpi_results.
SELECT o.provider_code, p.icb_code, p.council_code,
       p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS age_band, p.sex,
       CASE WHEN EXISTS (SELECT 1
                         FROM core.status_observation s
                         WHERE s.person_id = o.person_id
                           AND s.list_name = 'accommodation_status'
                           AND s.recorded_date > ($2::date - interval '12 months')::date
                           AND s.recorded_date <= $2)
            THEN 1 ELSE 0 END AS in_num,
       1 AS in_den,
       NULL::numeric AS amount
FROM perf.open_adult_mh($2) o
JOIN core.person p USING (person_id)
WHERE perf.age_at(p.date_of_birth, $2) BETWEEN 18 AND 69
  AND (p.date_of_death IS NULL OR p.date_of_death > $2)
