-- Ends service line $2 of episode $1 on date $3 for reason $4, moved to legal basis $5 ('' for
-- none).
UPDATE s117.service_line
SET end_date = $3::date,
  end_reason = $4,
  moved_to_legal_basis = nullif($5, '')
WHERE episode_id = $1::uuid
  AND service_line_id = $2::uuid
