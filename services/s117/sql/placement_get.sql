-- Placement $1 for update: its person, placing council, start and end ('' when open).
SELECT person_id::text, placing_council_code, start_date::text, coalesce(end_date::text, '')
FROM s117.placement
WHERE placement_id = $1::uuid
FOR UPDATE
