-- SELF_DIRECTED: a row per person with long-term community support for mental health open at
-- period end ($2, one per person), counted when it is delivered in a self-directed way. By the
-- council providing it. The unit query of perf.kpi_results.
SELECT NULL::text AS provider_code, p.icb_code, s.council_code, p.eth_code, p.age_band, p.sex,
       CASE WHEN coalesce(s.delivery_mechanism = ANY (
                            (SELECT perf.group_codes('care_act_delivery_mechanism', 'self_directed',
                                                     $2))::text[]),
                          false)
            THEN 1 ELSE 0 END AS in_num,
       1 AS in_den, NULL::numeric AS amount
FROM perf.mh_community_support($2) s
JOIN perf.person_units($2) p USING (person_id)
