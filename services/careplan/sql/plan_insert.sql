-- A new DRAFT plan for person $1 by organisation $7, started on $8; returns its id. Empty key
-- worker organisation ($2) and review date ($3) are stored as NULL; $9 and $10, the plan's
-- reference in the system it was imported from and the import row (JSON), are NULL for a plan
-- made here.
INSERT INTO careplan.plan (person_id, status, key_worker_org, next_review_date,
  is_s117_aftercare_plan, is_care_act_plan, is_nhs_pcsp, created_by_org, started_on, source_ref,
  source_row)
VALUES ($1::uuid, 'DRAFT', nullif($2, ''), nullif($3, '')::date, $4, $5, $6, $7, $8::date, $9,
  $10::jsonb)
RETURNING plan_id::text
