-- The codes of group grp of code list `list` valid on `at`. Called as an uncorrelated
-- sub-select (`code = ANY ((SELECT perf.group_codes(...))::text[])`) it runs once per query;
-- perf.in_group stays for single look-ups.
CREATE OR REPLACE FUNCTION perf.group_codes(list text, grp text, at date) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(c.code), '{}') FROM core.code_list c
   WHERE c.list_name = list AND c.group_code = grp
     AND c.valid_from <= at AND (c.valid_to IS NULL OR c.valid_to >= at)
$$;
