-- Long-term community support for mental health open at p_end: the latest such service per
-- person (inlinable, as the indicator queries call it once per row set).
CREATE OR REPLACE FUNCTION perf.mh_community_support(p_end date)
RETURNS SETOF core.social_care_event
LANGUAGE sql STABLE AS $$
  SELECT DISTINCT ON (e.person_id) e.* FROM core.social_care_event e
   WHERE e.kind = 'service'
     AND e.service_type = ANY ((SELECT perf.group_codes('care_act_service_type', 'ltc_community',
                                                         p_end))::text[])
     AND e.primary_support_reason = ANY ((SELECT perf.group_codes('care_act_primary_support_reason',
                                                                 'mental_health', p_end))::text[])
     AND e.start_date <= p_end AND (e.end_date IS NULL OR e.end_date > p_end)
   ORDER BY e.person_id, e.start_date DESC
$$;
