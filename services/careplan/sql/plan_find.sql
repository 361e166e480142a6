-- Plan $1 as organisation $2 may act on it: plan id, person id, NHS number, current version,
-- status, S117 flag, agreed S117 flag, agreed version (0: never), signed version, whether $2
-- sees the person, whether $2 has a role on the plan (responsible for the person, its author,
-- or named in it: careplan.plan_org), the day the plan was started. A writer locks the plan
-- first (plan_lock.sql).
SELECT p.plan_id::text, p.person_id::text, per.nhs_number, p.current_version, p.status,
  p.is_s117_aftercare_plan, p.agreed_s117, coalesce(p.agreed_version, 0), p.signed_version,
  f.sees,
  f.responsible
    OR p.created_by_org = $2
    OR EXISTS (
      SELECT 1
      FROM careplan.plan_org o
      WHERE o.plan_id = p.plan_id
        AND o.org_code = $2),
  p.started_on::text
FROM careplan.plan p
JOIN core.person per ON per.person_id = p.person_id
CROSS JOIN LATERAL core.relationship_facts(p.person_id, $2) f
WHERE p.plan_id = $1::uuid
