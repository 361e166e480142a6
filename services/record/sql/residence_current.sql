-- Person $1's current residence (core.residence, to_date NULL), locked: postcode, council, ICB
-- ('' for none) and from ('' for a date not recorded).
SELECT postcode, coalesce(council_code, ''), coalesce(icb_code, ''), coalesce(from_date::text, '')
FROM core.residence
WHERE person_id = $1::uuid AND to_date IS NULL
FOR UPDATE
