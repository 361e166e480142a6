-- Records a review of episode $1 (recorded by organisation $14), with each body's attendance
-- ($15 council, $16 health).
INSERT INTO s117.review (episode_id, review_date, council_rep_name, council_rep_role,
  council_rep_org, health_rep_name, health_rep_role, health_rep_org, person_involvement,
  others_present, outcome, summary, next_review_due, recorded_by_org, council_attendance,
  health_attendance)
VALUES ($1::uuid, $2::date, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::date, $14, $15, $16)
