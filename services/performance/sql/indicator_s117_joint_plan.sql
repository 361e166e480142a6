-- S117_JOINT_PLAN: a row per S117 entitlement in force at period end ($2) for at least 28 days,
-- counted when the person has an agreed S117 care plan, agreed (agreed_on: the real-world day)
-- by period end and agreed or reviewed in the 12 months to it, signed off by both agencies (the
-- sign-offs of the version in force, late ones included: careplan.signed_jointly), whose S117
-- interventions all name a funder. By qualifying section (detail). The unit query of perf.kpi_results.
SELECT e.provider_code, e.icb_code, e.council_code, e.eth_code, e.age_band, e.sex,
       CASE WHEN EXISTS (
              SELECT 1
              FROM careplan.plan cp
              JOIN careplan.plan_version v ON v.plan_id = cp.plan_id AND v.version = cp.agreed_version
              WHERE cp.person_id = e.person_id
                AND cp.agreed_s117
                AND coalesce(cp.agreed_on, perf.local_date(cp.agreed_at)) <= $2
                AND greatest(coalesce(cp.agreed_on, perf.local_date(cp.agreed_at)),
                             cp.last_review_date)
                    > ($2::date - interval '12 months')::date
                AND careplan.signed_jointly(cp.plan_id, cp.signed_version)
                AND NOT EXISTS (
                      SELECT 1
                      FROM jsonb_array_elements(coalesce(v.content->'interventions', '[]')) i
                      WHERE coalesce((i->>'is_s117')::boolean, false)
                        AND coalesce(i->>'funder', 'FUNDER_UNSPECIFIED')
                            IN ('FUNDER_UNSPECIFIED', 'SELF')))
            THEN 1 ELSE 0 END AS in_num,
       1 AS in_den, NULL::numeric AS amount, e.section AS detail
FROM perf.s117_units($2) e
WHERE e.effective_from <= $2::date - 28
