-- Age band as one expression (inlined).
CREATE OR REPLACE FUNCTION perf.age_band(dob date, at date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN perf.age_at(dob, at) < 18 THEN '0-17' WHEN perf.age_at(dob, at) < 25 THEN '18-24'
              WHEN perf.age_at(dob, at) < 35 THEN '25-34' WHEN perf.age_at(dob, at) < 45 THEN '35-44'
              WHEN perf.age_at(dob, at) < 55 THEN '45-54' WHEN perf.age_at(dob, at) < 65 THEN '55-64'
              WHEN perf.age_at(dob, at) < 75 THEN '65-74' ELSE '75+' END
$$;
