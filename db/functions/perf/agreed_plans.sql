-- Every agreement of a care plan (a plan version whose change is 'agreed'): the person, the day
-- it was agreed (the real-world day of its last needed sign-off, not the day it was recorded) and
-- whether the version is an S117 aftercare plan. Inlined into the calling query.
CREATE OR REPLACE FUNCTION perf.agreed_plans()
RETURNS TABLE (person_id uuid, agreed_on date, s117_aftercare boolean)
LANGUAGE sql STABLE AS $$
  SELECT cp.person_id, coalesce(v.agreed_on, perf.local_date(v.created_at)),
         coalesce((v.content->>'is_s117_aftercare_plan')::boolean, false)
  FROM careplan.plan cp
  JOIN careplan.plan_version v USING (plan_id)
  WHERE v.change = 'agreed'
$$;
