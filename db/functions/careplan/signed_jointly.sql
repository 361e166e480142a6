-- Whether health and social care both signed version p_version of plan p_plan (a plan's "joint"
-- agreement: the sign-offs of its signed_version, late sign-offs included). Read by the plan's
-- statements and by S117_JOINT_PLAN.
CREATE OR REPLACE FUNCTION careplan.signed_jointly(p_plan uuid, p_version int)
RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT count(DISTINCT so.agency) = 2
  FROM careplan.signoff so
  WHERE so.plan_id = p_plan
    AND so.version = p_version
$$;
