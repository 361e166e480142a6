-- CARE_ACT_DAYS: a row per Care Act assessment completed in the period ($1 to $2), its amount
-- the days from the latest request to the same council on or before its end. The unit query of
-- perf.kpi_results (median).
SELECT NULL::text AS provider_code, p.icb_code, a.council_code, p.eth_code, p.age_band, p.sex,
       1 AS in_num,
       NULL::int AS in_den,
       (a.end_date - rq.start_date)::numeric AS amount
FROM core.social_care_event a
JOIN perf.person_units($2) p USING (person_id)
JOIN LATERAL (SELECT r.start_date
              FROM core.social_care_event r
              WHERE r.person_id = a.person_id
                AND r.council_code = a.council_code
                AND r.kind = 'request'
                AND r.start_date <= a.end_date
              ORDER BY r.start_date DESC
              LIMIT 1) rq ON true
WHERE a.kind = 'assessment'
  AND a.end_date BETWEEN $1 AND $2
