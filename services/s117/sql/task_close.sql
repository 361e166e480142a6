-- Closes episode $1's open tasks of kind $2 ('' for every kind) with note $3; a row for each.
UPDATE s117.task
SET status = 'CLOSED',
  closed_at = now(),
  closed_note = $3
WHERE episode_id = $1::uuid
  AND status = 'OPEN'
  AND ($2 = '' OR kind = $2)
RETURNING 1
