-- DIRECT_PAYMENTS: a row per person with long-term community support for mental health open at
-- period end ($2, one per person), counted when it is a direct payment. The unit query of
-- perf.kpi_results.
SELECT NULL::text AS provider_code, p.icb_code, s.council_code, p.eth_code, p.age_band, p.sex,
       CASE WHEN s.delivery_mechanism = 'direct_payment' THEN 1 ELSE 0 END AS in_num,
       1 AS in_den, NULL::numeric AS amount
FROM perf.mh_community_support($2) s
JOIN perf.person_units($2) p USING (person_id)
