-- Detail breakdowns (kpi-catalogue.md, Section 117): an indicator's own breakdown beside
-- ethnicity, age band and sex. S117_OVERDUE by how long overdue, S117_ENDED by reason, and the
-- entitlement-based S117 indicators by qualifying section. Which indicator has which is in the
-- indicator queries (services/performance/store.cpp); the results go through the same
-- disclosure control as every other breakdown.
ALTER TABLE perf.kpi_result DROP CONSTRAINT kpi_result_breakdown_check;
ALTER TABLE perf.kpi_result ADD CONSTRAINT kpi_result_breakdown_check
  CHECK (breakdown IN ('none', 'ethnicity', 'age_band', 'sex',
                       'overdue_band', 'end_reason', 'qualifying_section'));

-- How long a review due on `due` is overdue at `at` (NULL when it is not overdue: due on or
-- after `at`). Each band includes its upper edge, in calendar months before `at` as PostgreSQL
-- subtracts them (31 October minus 6 months is 30 April):
--   '0-3 months'     due on or after at - 3 months
--   '3-6 months'     due on or after at - 6 months and before at - 3 months
--   '6-12 months'    due on or after at - 12 months and before at - 6 months
--   'Over 12 months' due before at - 12 months
-- The labels sort in band order.
CREATE FUNCTION perf.overdue_band(due date, at date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN due >= at THEN NULL
              WHEN due >= (at - interval '3 months')::date THEN '0-3 months'
              WHEN due >= (at - interval '6 months')::date THEN '3-6 months'
              WHEN due >= (at - interval '12 months')::date THEN '6-12 months'
              ELSE 'Over 12 months' END
$$;

-- A qualifying section as people write it: S3 -> s3, S37_41 -> s37/41, S45A -> s45A; a section
-- that qualified by a recorded case decision -> 'Other (case decision)'.
CREATE FUNCTION perf.qualifying_section_label(section text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN section = 'OTHER_CASE_DECISION' THEN 'Other (case decision)'
              ELSE 's' || replace(substr(section, 2), '_', '/') END
$$;

UPDATE perf.indicator SET definition =
  'Entitlements in force at period end (left hospital on or before it and not ended by then). '
  'By qualifying section: s3, s37, s37/41, s45A, s47, s47/49, s48, s48/49, or another section '
  'by case decision.'
WHERE indicator_id = 'S117_ACTIVE';

UPDATE perf.indicator SET definition =
  'Entitlements in force at period end whose next review was due before period end with no '
  'review since (due: the next review date set at the latest review on or before period end, '
  'else 12 months after the entitlement came into force). By how long overdue, each band '
  'including its upper edge: 0-3 months (due on or after the date 3 months before period end), '
  '3-6 months (due on or after the date 6 months before and before the date 3 months before), '
  '6-12 months (due on or after the date 12 months before and before the date 6 months before), '
  'over 12 months (due before the date 12 months before period end).'
WHERE indicator_id = 'S117_OVERDUE';

UPDATE perf.indicator SET definition =
  'Entitlements ended in the period, by reason: joint discharge, superseded by a new qualifying '
  'detention, or death (records voided as recorded in error excluded). Ends by discharge '
  'without both decisions are also counted in S117_END_EXCEPTIONS.'
WHERE indicator_id = 'S117_ENDED';
