-- Every person's breakdown columns on a date: ICB and council on that date (a later succession
-- does not move past months: perf.moved_from), NHS ethnic category (eth_code), age band and
-- sex; with date_of_birth and date_of_death for the indicators that filter on them. The
-- indicators join it in place of core.person (it is inlined into the calling query).
CREATE OR REPLACE FUNCTION perf.person_units(p_at date)
RETURNS TABLE (person_id uuid, icb_code text, council_code text, eth_code text, age_band text,
               sex text, date_of_birth date, date_of_death date)
LANGUAGE sql STABLE AS $$
  SELECT p.person_id, coalesce(i.from_code, p.icb_code), coalesce(c.from_code, p.council_code),
         p.ethnic_category, perf.age_band(p.date_of_birth, p_at), p.sex, p.date_of_birth,
         p.date_of_death
  FROM core.person p
  LEFT JOIN perf.moved_from('person', 'icb', p_at) i ON i.entity_id = p.person_id::text
  LEFT JOIN perf.moved_from('person', 'council', p_at) c ON c.entity_id = p.person_id::text
$$;
