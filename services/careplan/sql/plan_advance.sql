-- Moves plan $1 on from version $2 to the next, with status $3 and the header fields of the new
-- version; returns the new version, no row when the plan is no longer at $2 (the optimistic
-- lock: only moves on from the version the writer read).
UPDATE careplan.plan
SET current_version = current_version + 1,
  status = $3,
  key_worker_org = nullif($4, ''),
  next_review_date = nullif($5, '')::date,
  is_s117_aftercare_plan = $6,
  is_care_act_plan = $7,
  is_nhs_pcsp = $8,
  updated_at = now()
WHERE plan_id = $1::uuid
  AND current_version = $2
RETURNING current_version
