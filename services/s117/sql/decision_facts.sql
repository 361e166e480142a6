-- Episode $1's end decisions in force (not rescinded): body (COUNCIL or ICB), decision date,
-- migrated.
SELECT body, decision_date::text, migrated
FROM s117.end_decision
WHERE episode_id = $1::uuid
  AND rescinded_at IS NULL
