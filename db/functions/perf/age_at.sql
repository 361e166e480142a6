-- Age in whole years, on timestamps: age(date, date) resolves to the timestamptz form through a
-- stable cast, which kept this IMMUTABLE function from being inlined.
CREATE OR REPLACE FUNCTION perf.age_at(dob date, at date) RETURNS int
LANGUAGE sql IMMUTABLE AS $$ SELECT extract(year FROM age(at::timestamp, dob::timestamp))::int $$;
