-- Rescinds every end decision of episode $1 in force.
UPDATE s117.end_decision
SET rescinded_at = now()
WHERE episode_id = $1::uuid
  AND rescinded_at IS NULL
