-- CARE_ACT_ASSESSMENTS: a row per Care Act assessment completed in the period ($1 to $2), by the
-- council that made it. The unit query of perf.kpi_results.
SELECT NULL::text AS provider_code, p.icb_code, a.council_code, p.eth_code, p.age_band, p.sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount
FROM core.social_care_event a
JOIN perf.person_units($2) p USING (person_id)
WHERE a.kind = 'assessment'
  AND a.end_date BETWEEN $1 AND $2
