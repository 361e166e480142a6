-- Performance indicators (kpi-catalogue.md): definitions and targets as data, stored monthly
-- results, the disclosure-control setting, and SQL helpers shared by the indicator queries.
CREATE SCHEMA IF NOT EXISTS perf;

CREATE TABLE perf.indicator (
  indicator_id  text PRIMARY KEY,
  version       int NOT NULL DEFAULT 1,
  name          text NOT NULL,
  owner         text NOT NULL CHECK (owner IN ('health', 'social_care', 'joint')),
  grp           text NOT NULL CHECK (grp IN ('health', 'social_care', 's117')),
  definition    text NOT NULL,
  unit          text NOT NULL CHECK (unit IN ('percent', 'count', 'pounds_per_week', 'days')),
  kind          text NOT NULL CHECK (kind IN ('ratio', 'count', 'sum', 'median')),
  target        numeric,
  direction     text NOT NULL CHECK (direction IN ('higher', 'lower', 'none')),
  display_order int NOT NULL,
  active        boolean NOT NULL DEFAULT true
);

-- One row per indicator, month, organisation scope and breakdown; a recompute replaces a month.
CREATE TABLE perf.kpi_result (
  indicator_id    text NOT NULL REFERENCES perf.indicator (indicator_id),
  period_start    date NOT NULL,
  scope_type      text NOT NULL CHECK (scope_type IN ('all', 'provider', 'icb', 'council')),
  scope_code      text NOT NULL DEFAULT '',
  breakdown       text NOT NULL CHECK (breakdown IN ('none', 'ethnicity', 'age_band', 'sex')),
  breakdown_value text NOT NULL DEFAULT '',
  numerator       numeric,
  denominator     numeric,
  value           numeric,
  computed_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (period_start, scope_type, scope_code, breakdown, indicator_id, breakdown_value)
);
CREATE INDEX kpi_result_series ON perf.kpi_result (indicator_id, scope_type, scope_code, breakdown, period_start);

-- Settings: 'shared_disclosure_policy' = mhsds (default) | strict.
CREATE TABLE perf.setting (
  key   text PRIMARY KEY,
  value text NOT NULL
);
INSERT INTO perf.setting VALUES ('shared_disclosure_policy', 'mhsds');

-- Helpers. Dates are taken in England's time zone.
CREATE FUNCTION perf.local_date(ts timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE AS $$ SELECT (ts AT TIME ZONE 'Europe/London')::date $$;

CREATE FUNCTION perf.age_at(dob date, at date) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT extract(year FROM age(at, dob))::int $$;

CREATE FUNCTION perf.age_band(dob date, at date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN a < 18 THEN '0-17' WHEN a < 25 THEN '18-24' WHEN a < 35 THEN '25-34'
              WHEN a < 45 THEN '35-44' WHEN a < 55 THEN '45-54' WHEN a < 65 THEN '55-64'
              WHEN a < 75 THEN '65-74' ELSE '75+' END
  FROM (SELECT perf.age_at(dob, at) AS a) x
$$;

-- True when code belongs to group grp of code list `list` on date `at` (versioned reference data).
CREATE FUNCTION perf.in_group(list text, code text, grp text, at date) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM core.code_list c
                  WHERE c.list_name = list AND c.code = in_group.code AND c.group_code = grp
                    AND c.valid_from <= at AND (c.valid_to IS NULL OR c.valid_to >= at))
$$;

-- Ethnicity upper group (White, Mixed, Asian or Asian British, Black or Black British, Other,
-- Not stated, Unknown) from the NHS ethnic category.
CREATE FUNCTION perf.ethnic_group(code text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT c.group_code FROM core.code_list c
                    WHERE c.list_name = 'ethnic_category' AND c.code = ethnic_group.code LIMIT 1),
                  'Unknown')
$$;

-- People with an adult mental health referral open at the end of a period, with its provider.
CREATE FUNCTION perf.open_adult_mh(p_end date)
RETURNS TABLE (person_id uuid, provider_code text, received_date date)
LANGUAGE sql STABLE AS $$
  SELECT DISTINCT ON (r.person_id) r.person_id, r.provider_code, r.received_date
    FROM core.referral r
   WHERE r.service_area = 'adult_mh' AND r.received_date <= p_end
     AND (r.closed_date IS NULL OR r.closed_date > p_end)
   ORDER BY r.person_id, r.received_date, r.provider_code
$$;

INSERT INTO core.code_list (list_name, code, description, group_code) VALUES
  ('care_act_service_type', 'Long term support: Community', 'Long-term support in the community', 'ltc_community'),
  ('care_act_primary_support_reason', 'Mental Health Support', 'Mental health support', 'mental_health');

-- Long-term community support for mental health open at the end of a period, one per person
-- (the latest), by service type and primary support reason from the versioned code lists.
CREATE FUNCTION perf.mh_community_support(p_end date)
RETURNS SETOF core.social_care_event
LANGUAGE sql STABLE AS $$
  SELECT DISTINCT ON (e.person_id) e.* FROM core.social_care_event e
   WHERE e.kind = 'service'
     AND perf.in_group('care_act_service_type', e.service_type, 'ltc_community', p_end)
     AND perf.in_group('care_act_primary_support_reason', e.primary_support_reason,
                       'mental_health', p_end)
     AND e.start_date <= p_end AND (e.end_date IS NULL OR e.end_date > p_end)
   ORDER BY e.person_id, e.start_date DESC
$$;

INSERT INTO perf.indicator (indicator_id, name, owner, grp, definition, unit, kind, target, direction, display_order) VALUES
  ('FU72', 'Follow-up within 72 hours of discharge', 'health', 'health',
   'Discharges from adult acute beds (bed types in the adult_acute group) from 4 days before the period to 4 days before its end, excluding deaths (method 4, 5 or death within 3 days) and excluded destinations, whose first attended follow-up by face to face, telephone, talk type or video contact, or a readmission, falls on day 1, 2 or 3 after the discharge date. Contacts on the day of discharge do not count.',
   'percent', 'ratio', 80, 'higher', 10),
  ('KEYWORKER', 'People with a named key worker', 'joint', 'health',
   'People with an open adult mental health referral at period end who have a key-worker assignment open at period end.',
   'percent', 'ratio', NULL, 'higher', 20),
  ('PLAN12', 'Care plan agreed or reviewed in the last 12 months', 'joint', 'health',
   'People with an adult mental health referral open at period end and opened at least 12 months before it, whose care plan was agreed or reviewed in the 12 months to period end.',
   'percent', 'ratio', 95, 'higher', 30),
  ('DETENTIONS', 'New detentions under the Mental Health Act', 'joint', 'health',
   'Detentions starting in the period that are new: not short-term holds (s4, s5, s135, s136), not guardianship, and not following straight on from another detention (e.g. s3 after s2).',
   'count', 'count', NULL, 'none', 40),
  ('EMPLOYMENT', 'In paid employment (ASCOF)', 'joint', 'social_care',
   'People aged 18 to 69 with an open adult mental health referral at period end whose latest employment status recorded in the 12 months to period end is 01 (employed).',
   'percent', 'ratio', NULL, 'higher', 50),
  ('ACCOMMODATION', 'Living independently (ASCOF)', 'joint', 'social_care',
   'People aged 18 to 69 with an open adult mental health referral at period end whose latest accommodation status recorded in the 12 months to period end is settled.',
   'percent', 'ratio', NULL, 'higher', 60),
  ('EMPLOYMENT_RECORDED', 'Employment status recorded in the last 12 months', 'joint', 'social_care',
   'People in the EMPLOYMENT denominator with any employment status recorded in the 12 months to period end.',
   'percent', 'ratio', 100, 'higher', 70),
  ('ACCOMMODATION_RECORDED', 'Accommodation status recorded in the last 12 months', 'joint', 'social_care',
   'People in the ACCOMMODATION denominator with any accommodation status recorded in the 12 months to period end.',
   'percent', 'ratio', 100, 'higher', 80),
  ('SELF_DIRECTED', 'Mental health clients receiving self-directed support', 'social_care', 'social_care',
   'Clients with long-term community support for mental health open at period end whose support is a direct payment or a council-managed personal budget.',
   'percent', 'ratio', NULL, 'higher', 90),
  ('DIRECT_PAYMENTS', 'Mental health clients receiving direct payments', 'social_care', 'social_care',
   'Clients with long-term community support for mental health open at period end whose support is a direct payment.',
   'percent', 'ratio', NULL, 'higher', 100),
  ('CARE_ACT_ASSESSMENTS', 'Care Act needs assessments completed', 'social_care', 'social_care',
   'Care Act needs assessments completed in the period.',
   'count', 'count', NULL, 'none', 110),
  ('CARE_ACT_DAYS', 'Median days from request to assessment', 'social_care', 'social_care',
   'For assessments completed in the period, the median number of days from the latest earlier request to the same council to the completion of the assessment.',
   'days', 'median', NULL, 'lower', 120),
  ('CARERS_ASSESSED', 'Carers'' assessments completed', 'social_care', 'social_care',
   'Carers'' assessments completed in the period.',
   'count', 'count', NULL, 'none', 130);
