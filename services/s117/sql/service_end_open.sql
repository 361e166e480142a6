-- Ends every service line of episode $1 still open on date $2 on that date (or on its start, if
-- later), for reason $3; only the s117 lines when $4. Returns the lines ended.
UPDATE s117.service_line
SET end_date = greatest(start_date, $2::date),
  end_reason = $3
WHERE episode_id = $1::uuid
  AND (end_date IS NULL OR end_date > $2::date)
  AND (is_s117 OR NOT $4::boolean)
RETURNING service_line_id::text
