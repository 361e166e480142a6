-- The last review of plan $1 before version $2: id, date, participants (JSON), outcome, next
-- review date, notes, the version reviewed, recording organisation. The review of version k
-- made version k + 1, so a version shows the reviews before it.
SELECT review_id::text, review_date::text, participants::text, outcome, next_review_date::text,
  notes, plan_version, recorded_by_org
FROM careplan.review
WHERE plan_id = $1::uuid
  AND plan_version < $2
ORDER BY review_date DESC, recorded_at DESC
LIMIT 1
