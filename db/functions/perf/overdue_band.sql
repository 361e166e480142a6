-- How long a review due on `due` is overdue at `at` (NULL when it is not overdue: due on or
-- after `at`). Each band includes its upper edge, in calendar months before `at` as PostgreSQL
-- subtracts them (31 October minus 6 months is 30 April):
--   '0-3 months'     due on or after at - 3 months
--   '3-6 months'     due on or after at - 6 months and before at - 3 months
--   '6-12 months'    due on or after at - 12 months and before at - 6 months
--   'Over 12 months' due before at - 12 months
-- The labels sort in band order.
CREATE OR REPLACE FUNCTION perf.overdue_band(due date, at date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN due >= at THEN NULL
              WHEN due >= (at - interval '3 months')::date THEN '0-3 months'
              WHEN due >= (at - interval '6 months')::date THEN '3-6 months'
              WHEN due >= (at - interval '12 months')::date THEN '6-12 months'
              ELSE 'Over 12 months' END
$$;
