-- A row when the register has acted on detention $2 recorded by organisation $1.
SELECT 1
FROM s117.episode_detention
WHERE source_org = $1
  AND detention_id = $2
