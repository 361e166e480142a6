-- An entitlement in force on a date: came into force on or before it and not ended by then.
CREATE OR REPLACE FUNCTION perf.s117_in_force(p_at date)
RETURNS SETOF s117.episode
LANGUAGE sql STABLE AS $$
  SELECT e.* FROM s117.episode e
   WHERE e.state <> 'VOID' AND e.effective_from IS NOT NULL AND e.effective_from <= p_at
     AND (e.ended_on IS NULL OR e.ended_on > p_at)
$$;
