-- S117_REGISTERED_28D: a row per discharge in the period ($1 to $2) from a stay during which the
-- person was detained under a section that qualifies for S117, counted when an entitlement
-- (detention started on or before the discharge) was registered within 28 days of discharge:
-- its registered_on, the real-world day of registration (an imported entitlement keeps the
-- previous register's date), never the time the row was stored. The unit query of
-- perf.kpi_results.
SELECT s.provider_code, p.icb_code, p.council_code, p.eth_code, p.age_band, p.sex,
       CASE WHEN EXISTS (SELECT 1
                         FROM s117.episode e
                         WHERE e.person_id = s.person_id
                           AND e.state <> 'VOID'
                           AND e.detention_start_date <= perf.local_date(s.discharged_at)
                           AND e.registered_on <= perf.local_date(s.discharged_at) + 28)
            THEN 1 ELSE 0 END AS in_num,
       1 AS in_den, NULL::numeric AS amount
FROM core.hospital_spell s
JOIN perf.person_units($2) p USING (person_id)
WHERE perf.local_date(s.discharged_at) BETWEEN $1 AND $2
  AND EXISTS (SELECT 1
              FROM core.detention d
              JOIN core.mha_legal_status l
                ON l.code = d.legal_status_code AND l.s117_qualifying = 'yes'
              WHERE d.person_id = s.person_id
                AND d.started_at <= s.discharged_at
                AND (d.ended_at IS NULL OR d.ended_at >= s.admitted_at))
