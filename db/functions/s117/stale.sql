-- Whether the entitlement `p_episode` of `p_person` is stale on `p_as_of`: the person has no referral
-- open on that date (received on or before it and not closed by then) and the entitlement had no
-- review in the S117 policy's stale_after_months (s117.policy, 12 unless a council changes it) to
-- that date. The one definition of "S117 stale": the register's stale filter (active
-- entitlements, on the date asked for) and the indicator S117_STALE (entitlements in force at
-- period end, on period end) both call it.
--
-- Decision: the indicators follow the S117 policy, as the register does, so that a KPI and the
-- register it is checked against count the same entitlements. S117_STALE's name says "12 months"
-- because that is the policy's default; a store that changes stale_after_months changes the
-- indicator with it (review_overdue does the same for review_overdue_tolerance_days).
CREATE OR REPLACE FUNCTION s117.stale(p_person uuid, p_episode uuid, p_as_of date) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT NOT EXISTS (SELECT 1 FROM core.referral r
                      WHERE r.person_id = p_person
                        AND r.received_date <= p_as_of
                        AND (r.closed_date IS NULL OR r.closed_date > p_as_of))
     AND NOT EXISTS (SELECT 1 FROM s117.review v
                      WHERE v.episode_id = p_episode
                        AND v.review_date > (p_as_of - make_interval(months => coalesce(
                              (SELECT p.value::int FROM s117.policy p
                                WHERE p.key = 'stale_after_months'), 12)))::date
                        AND v.review_date <= p_as_of)
$$;
