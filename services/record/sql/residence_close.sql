-- Ends person $1's current residence on $2 (its last day).
UPDATE core.residence
SET to_date = $2::date
WHERE person_id = $1::uuid AND to_date IS NULL
