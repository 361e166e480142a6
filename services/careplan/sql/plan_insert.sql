-- A new DRAFT plan for person $1 by organisation $7; returns its id. Empty key worker
-- organisation ($2) and review date ($3) are stored as NULL.
INSERT INTO careplan.plan (person_id, status, key_worker_org, next_review_date,
  is_s117_aftercare_plan, is_care_act_plan, is_nhs_pcsp, created_by_org)
VALUES ($1::uuid, 'DRAFT', nullif($2, ''), nullif($3, '')::date, $4, $5, $6, $7)
RETURNING plan_id::text
