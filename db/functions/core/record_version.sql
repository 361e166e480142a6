-- A record version from its parts: the person's stamp (NULL: none), the reference epoch and
-- the date. Immutable and free of sub-selects, so the planner inlines it where it is used.
CREATE OR REPLACE FUNCTION core.record_version(stamp xid8, epoch bigint, day date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(stamp::text, '-') || '/' || epoch::text || '/' || (day - DATE '2000-01-01')::text
$$;
