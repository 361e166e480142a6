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
  FROM perf.s117_units($2) e
)
SELECT provider_code, icb_code, council_code, eth_code, age_band, sex,
       1 AS in_num, NULL::int AS in_den, NULL::numeric AS amount,
       perf.overdue_band(due, $2) AS detail
FROM entitlement
WHERE s117.review_overdue(due, $2)
