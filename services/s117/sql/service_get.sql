-- Service line $2 of episode $1, locked for update: start date, whether it has ended.
SELECT start_date::text, end_date IS NOT NULL
FROM s117.service_line
WHERE episode_id = $1::uuid
  AND service_line_id = $2::uuid
FOR UPDATE
