-- S117_PLAN_AT_DISCHARGE: a row per S117 entitlement (not void) that came into force in the
-- period ($1 to $2), counted when an S117 aftercare plan had been agreed (perf.agreed_plans) by
-- the day it did. By qualifying section (detail). The unit query of perf.kpi_results.
SELECT e.detaining_provider_code AS provider_code, b.icb_code, b.council_code, p.eth_code,
       p.age_band, p.sex,
       CASE WHEN EXISTS (SELECT 1
                         FROM perf.agreed_plans() a
                         WHERE a.person_id = e.person_id
                           AND a.s117_aftercare
                           AND a.agreed_on <= e.effective_from)
            THEN 1 ELSE 0 END AS in_num,
       1 AS in_den, NULL::numeric AS amount,
       perf.qualifying_section_label(e.qualifying_section) AS detail
FROM s117.episode e
JOIN perf.person_units($2) p USING (person_id)
JOIN perf.episode_bodies($2) b USING (episode_id)
WHERE e.state <> 'VOID'
  AND e.effective_from BETWEEN $1 AND $2
