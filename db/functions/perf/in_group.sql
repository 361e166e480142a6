-- True when code belongs to group grp of code list `list` on date `at` (versioned reference data).
CREATE OR REPLACE FUNCTION perf.in_group(list text, code text, grp text, at date) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM core.code_list c
                  WHERE c.list_name = list AND c.code = in_group.code AND c.group_code = grp
                    AND c.valid_from <= at AND (c.valid_to IS NULL OR c.valid_to >= at))
$$;
