-- Whether person $1 has an S117 episode that is PLANNED or ACTIVE.
SELECT EXISTS (
  SELECT 1
  FROM s117.episode
  WHERE person_id = $1::uuid
    AND state IN ('ACTIVE', 'PLANNED'))
