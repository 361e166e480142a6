-- Records a review of plan $1 at version $2 (person $3) by organisation $11; $5, the
-- participants, is a JSON array. Returns the review's id.
INSERT INTO careplan.review (plan_id, plan_version, person_id, review_date, participants,
  health_participated, social_care_participated, outcome, next_review_date, notes,
  recorded_by_org)
VALUES ($1::uuid, $2, $3::uuid, $4::date, $5::jsonb, $6, $7, $8, $9::date, $10, $11)
RETURNING review_id::text
