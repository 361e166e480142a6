-- Keeps episode $1 as it is now, after a change, in its history: by organisation $2 in role $3,
-- action $4, reason $5.
INSERT INTO s117.episode_history (episode_id, version, actor_org, actor_role, action, reason,
  snapshot)
SELECT e.episode_id, e.version, $2, $3, $4, $5, to_jsonb(e)
FROM s117.episode e
WHERE e.episode_id = $1::uuid
