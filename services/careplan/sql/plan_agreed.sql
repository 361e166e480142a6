-- Plan $1's current version becomes the agreed version in force, agreed on $3 from the
-- sign-offs of version $2.
UPDATE careplan.plan
SET agreed_version = current_version,
  agreed_at = now(),
  agreed_on = $3::date,
  agreed_s117 = is_s117_aftercare_plan,
  signed_version = $2
WHERE plan_id = $1::uuid
