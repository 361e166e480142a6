-- Indicator helpers the planner can inline or run once per query. The SQL functions of 0005
-- with sub-selects were called once per row (PostgreSQL inlines only sub-select-free bodies):
-- over 100,000 people the ethnicity, age-band and code-group look-ups were most of the time of
-- a recompute. Same results; the rules are unchanged.

-- Age in whole years, on timestamps: age(date, date) resolves to the timestamptz form through a
-- stable cast, which kept this IMMUTABLE function from being inlined.
CREATE OR REPLACE FUNCTION perf.age_at(dob date, at date) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT extract(year FROM age(at::timestamp, dob::timestamp))::int $$;

-- Age band as one expression (inlined).
CREATE OR REPLACE FUNCTION perf.age_band(dob date, at date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN perf.age_at(dob, at) < 18 THEN '0-17' WHEN perf.age_at(dob, at) < 25 THEN '18-24'
              WHEN perf.age_at(dob, at) < 35 THEN '25-34' WHEN perf.age_at(dob, at) < 45 THEN '35-44'
              WHEN perf.age_at(dob, at) < 55 THEN '45-54' WHEN perf.age_at(dob, at) < 65 THEN '55-64'
              WHEN perf.age_at(dob, at) < 75 THEN '65-74' ELSE '75+' END
$$;

-- Ethnicity upper group of each NHS ethnic category (the latest version of the code list),
-- joined once per recompute instead of looked up per row; unknown codes are 'Unknown'.
CREATE VIEW perf.ethnic_upper_group AS
  SELECT DISTINCT ON (code) code, group_code FROM core.code_list
   WHERE list_name = 'ethnic_category' ORDER BY code, valid_from DESC;
DROP FUNCTION perf.ethnic_group(text);

-- The codes of group grp of code list `list` valid on `at`. Called as an uncorrelated
-- sub-select (`code = ANY ((SELECT perf.group_codes(...))::text[])`) it runs once per query;
-- perf.in_group stays for single look-ups.
CREATE FUNCTION perf.group_codes(list text, grp text, at date) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(c.code), '{}') FROM core.code_list c
   WHERE c.list_name = list AND c.group_code = grp
     AND c.valid_from <= at AND (c.valid_to IS NULL OR c.valid_to >= at)
$$;

CREATE OR REPLACE FUNCTION perf.mh_community_support(p_end date)
RETURNS SETOF core.social_care_event
LANGUAGE sql STABLE AS $$
  SELECT DISTINCT ON (e.person_id) e.* FROM core.social_care_event e
   WHERE e.kind = 'service'
     AND e.service_type = ANY ((SELECT perf.group_codes('care_act_service_type', 'ltc_community',
                                                         p_end))::text[])
     AND e.primary_support_reason = ANY ((SELECT perf.group_codes('care_act_primary_support_reason',
                                                                 'mental_health', p_end))::text[])
     AND e.start_date <= p_end AND (e.end_date IS NULL OR e.end_date > p_end)
   ORDER BY e.person_id, e.start_date DESC
$$;

-- GetDashboard reads one scope's totals over 24 months: straight from this index.
CREATE INDEX kpi_result_scope ON perf.kpi_result (scope_type, scope_code, breakdown, period_start);
