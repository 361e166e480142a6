-- Records when and why ($2) plan $1 closed.
UPDATE careplan.plan
SET closed_at = now(),
  close_reason = $2
WHERE plan_id = $1::uuid
