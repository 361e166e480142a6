-- CARERS_ASSESSED: a row per carer's assessment completed in the period ($1 to $2), by the
-- council that made it. The unit query of perf.kpi_results.
SELECT NULL::text AS provider_code, p.icb_code, c.council_code, p.eth_code, p.age_band, p.sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount
FROM core.carer_assessment c
JOIN perf.person_units($2) p USING (person_id)
WHERE c.completed_date BETWEEN $1 AND $2
