-- People with an adult mental health referral open at the end of a period, with its provider.
CREATE OR REPLACE FUNCTION perf.open_adult_mh(p_end date)
RETURNS TABLE (person_id uuid, provider_code text, received_date date)
LANGUAGE sql STABLE AS $$
  SELECT DISTINCT ON (r.person_id) r.person_id, r.provider_code, r.received_date
    FROM core.referral r
   WHERE r.service_area = 'adult_mh' AND r.received_date <= p_end
     AND (r.closed_date IS NULL OR r.closed_date > p_end)
   ORDER BY r.person_id, r.received_date, r.provider_code
$$;
