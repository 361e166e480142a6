-- S117_OVERDUE: a row per S117 entitlement in force at period end ($2) whose next review is
-- overdue then (s117.review_overdue, the register's rule: the policy's tolerance applies). Due:
-- the next review date set at the latest review on or before period end, else 12 months after
-- the entitlement came into force. Banded by how long overdue (perf.overdue_band, detail). The
-- unit query of perf.kpi_results.
WITH entitlement AS (
  SELECT e.*,
         coalesce((SELECT r.next_review_due
                   FROM s117.review r
                   WHERE r.episode_id = e.episode_id
                     AND r.review_date <= $2
                   ORDER BY r.review_date DESC
                   LIMIT 1),
                  (e.effective_from + interval '12 months')::date) AS due
  FROM perf.s117_in_force($2) e
)
SELECT e.detaining_provider_code AS provider_code, e.responsible_icb_code AS icb_code,
       e.responsible_council_code AS council_code,
       p.ethnic_category AS eth_code, perf.age_band(p.date_of_birth, $2) AS age_band, p.sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount,
       perf.overdue_band(e.due, $2) AS detail
FROM entitlement e
JOIN core.person p USING (person_id)
WHERE s117.review_overdue(e.due, $2)
