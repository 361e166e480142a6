-- S117_END_EXCEPTIONS: a row per S117 entitlement ended by joint discharge in the period ($1 to
-- $2) without standing end decisions from both bodies. By qualifying section (detail). The unit
-- query of perf.kpi_results.
SELECT e.detaining_provider_code AS provider_code, b.icb_code, b.council_code, p.eth_code,
       p.age_band, p.sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount,
       perf.qualifying_section_label(e.qualifying_section) AS detail
FROM s117.episode e
JOIN perf.person_units($2) p USING (person_id)
JOIN perf.episode_bodies($2) b USING (episode_id)
WHERE e.state = 'ENDED_DISCHARGED'
  AND e.ended_on BETWEEN $1 AND $2
  AND (SELECT count(DISTINCT d.body)
       FROM s117.end_decision d
       WHERE d.episode_id = e.episode_id AND d.rescinded_at IS NULL) < 2
