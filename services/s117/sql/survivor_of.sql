-- The person that person $1 is now part of after merges (core.person_merge, not unmerged),
-- following a survivor merged again; NULL for a person not merged away.
WITH RECURSIVE chain (person_id, depth) AS (
  SELECT $1::uuid, 0
  UNION ALL
  SELECT m.survivor_id, c.depth + 1
  FROM chain c JOIN core.person_merge m
    ON m.superseded_id = c.person_id AND m.unmerged_at IS NULL
  WHERE c.depth < 32
)
SELECT (SELECT person_id::text FROM chain WHERE depth > 0 ORDER BY depth DESC LIMIT 1)
