-- Raises a task of kind $2 from source $3 with detail $4 on episode $1; a row when it is new.
-- Raised once per person and source: a change delivered again, even after the episode it was
-- raised on has been superseded, raises nothing.
WITH person AS (
  SELECT person_id
  FROM s117.episode
  WHERE episode_id = $1::uuid
)
INSERT INTO s117.task (episode_id, kind, source_ref, detail)
SELECT $1::uuid, $2, $3, $4
WHERE NOT EXISTS (
  SELECT 1
  FROM s117.task t
  JOIN s117.episode e ON e.episode_id = t.episode_id
  WHERE e.person_id = (SELECT person_id FROM person)
    AND t.kind = $2
    AND t.source_ref = $3)
ON CONFLICT DO NOTHING
RETURNING 1
