-- S117_ENDED: a row per S117 entitlement that ended in the period ($1 to $2), by the reason
-- (detail): the end state (VOID, recorded in error, is not an end). The unit query of
-- perf.kpi_results.
SELECT e.detaining_provider_code AS provider_code, b.icb_code, b.council_code, p.eth_code,
       p.age_band, p.sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount,
       CASE e.state WHEN 'ENDED_DISCHARGED' THEN 'Joint discharge'
                    WHEN 'ENDED_SUPERSEDED' THEN 'Superseded by re-detention'
                    WHEN 'ENDED_DECEASED' THEN 'Died' END AS detail
FROM s117.episode e
JOIN perf.person_units($2) p USING (person_id)
JOIN perf.episode_bodies($2) b USING (episode_id)
WHERE e.state IN ('ENDED_DISCHARGED', 'ENDED_SUPERSEDED', 'ENDED_DECEASED')
  AND e.ended_on BETWEEN $1 AND $2
