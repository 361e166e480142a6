-- Records plan $1's review on date $2; an AGREED plan's reviewed version is the agreed version
-- in force.
UPDATE careplan.plan
SET last_review_date = $2::date,
  last_reviewed_at = now(),
  agreed_version = CASE WHEN status = 'AGREED' THEN current_version ELSE agreed_version END
WHERE plan_id = $1::uuid
