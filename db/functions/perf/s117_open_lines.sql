-- The S117 service lines (is_s117) open on p_at: started on or before it and not ended by then.
CREATE OR REPLACE FUNCTION perf.s117_open_lines(p_at date)
RETURNS SETOF s117.service_line
LANGUAGE sql STABLE AS $$
  SELECT l.*
  FROM s117.service_line l
  WHERE l.is_s117
    AND l.start_date <= p_at
    AND (l.end_date IS NULL OR l.end_date > p_at)
$$;
