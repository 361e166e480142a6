-- The unit rows (as perf.kpi_results takes them) of an ASCOF status indicator at period end
-- p_at: a row per adult aged 18 to 69 open to adult mental health services then
-- (perf.open_adult_mh) and alive, counted (in_num) when their latest status on code list p_list
-- recorded in the 12 months to p_at is in group p_group of that list; or, when p_group is NULL,
-- when any status on the list was recorded in those 12 months. Inlined into the calling query.
CREATE OR REPLACE FUNCTION perf.ascof_status_units(p_list text, p_group text, p_at date)
RETURNS TABLE (provider_code text, icb_code text, council_code text, eth_code text,
               age_band text, sex text, in_num int, in_den int, amount numeric)
LANGUAGE sql STABLE AS $$
  SELECT o.provider_code, p.icb_code, p.council_code, p.eth_code, p.age_band, p.sex,
         CASE WHEN p_group IS NULL THEN st.code IS NOT NULL
              ELSE coalesce(st.code = ANY (
                              (SELECT perf.group_codes(p_list, p_group, p_at))::text[]),
                            false)
         END::int AS in_num,
         1 AS in_den,
         NULL::numeric AS amount
  FROM perf.open_adult_mh(p_at) o
  JOIN perf.person_units(p_at) p USING (person_id)
  LEFT JOIN LATERAL (SELECT s.code
                     FROM core.status_observation s
                     WHERE s.person_id = o.person_id
                       AND s.list_name = p_list
                       AND s.recorded_date > (p_at - interval '12 months')::date
                       AND s.recorded_date <= p_at
                     ORDER BY s.recorded_date DESC, s.obs_pk DESC
                     LIMIT 1) st ON true
  WHERE perf.age_at(p.date_of_birth, p_at) BETWEEN 18 AND 69
    AND (p.date_of_death IS NULL OR p.date_of_death > p_at)
$$;
