-- Ends every service line of episode $1 still open on date $2 on that date (or on its start, if
-- later), for reason $3.
UPDATE s117.service_line
SET end_date = greatest(start_date, $2::date),
  end_reason = $3
WHERE episode_id = $1::uuid
  AND (end_date IS NULL OR end_date > $2::date)
