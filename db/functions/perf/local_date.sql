-- Helpers. Dates are taken in England's time zone.
CREATE OR REPLACE FUNCTION perf.local_date(ts timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE AS $$ SELECT (ts AT TIME ZONE 'Europe/London')::date $$;
