-- Episode $1's service lines: id, whether S117 funds it, end date ('' while open), legal basis
-- it moved to ('' for none).
SELECT service_line_id::text, is_s117, coalesce(end_date::text, ''),
  coalesce(moved_to_legal_basis, '')
FROM s117.service_line
WHERE episode_id = $1::uuid
