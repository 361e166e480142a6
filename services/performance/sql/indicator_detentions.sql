-- DETENTIONS: a row per new detention started in the period ($1 to $2): not a short-term hold,
-- guardianship or informal, and not following on from another (non short-term) detention still
-- in force the day before. The unit query of perf.kpi_results.
SELECT d.provider_code, p.icb_code, p.council_code, p.eth_code, p.age_band, p.sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount
FROM core.detention d
JOIN perf.person_units($2) p USING (person_id)
JOIN core.mha_legal_status l ON l.code = d.legal_status_code
WHERE perf.local_date(d.started_at) BETWEEN $1 AND $2
  AND NOT l.short_term_hold
  AND d.legal_status_code NOT IN ('01', '35', '36', '98', '99')
  AND NOT EXISTS (SELECT 1
                  FROM core.detention e
                  JOIN core.mha_legal_status el ON el.code = e.legal_status_code
                  WHERE e.person_id = d.person_id
                    AND NOT el.short_term_hold
                    AND e.started_at < d.started_at
                    AND (e.ended_at IS NULL OR e.ended_at >= d.started_at - interval '1 day'))
