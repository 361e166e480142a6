-- Ends placement $1 on $2, by organisation $3.
UPDATE s117.placement
SET end_date = $2::date, ended_by = $3
WHERE placement_id = $1::uuid
