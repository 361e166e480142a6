-- Whether a review due on `due` is overdue on `as_of`: due more than the S117 policy's
-- review_overdue_tolerance_days (s117.policy, 0 unless a council changes it) before as_of.
-- False when nothing is due (due NULL). The one definition of "S117 review overdue": the
-- register's overdue flag and filter (the entitlement's next_review_due, judged on the date asked
-- for) and the indicator S117_OVERDUE (the next review due as it stood at period end, judged on
-- period end) both call it, so both follow the policy's tolerance.
CREATE OR REPLACE FUNCTION s117.review_overdue(due date, as_of date) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(due + coalesce((SELECT p.value::int FROM s117.policy p
                                   WHERE p.key = 'review_overdue_tolerance_days'), 0) < as_of,
                  false)
$$;
