-- Person $1's current episode id: the open one, else the most recent that is not VOID.
SELECT episode_id::text
FROM s117.episode
WHERE person_id = $1::uuid
  AND state <> 'VOID'
ORDER BY state IN ('PLANNED', 'ACTIVE') DESC, created_at DESC, episode_id
LIMIT 1
