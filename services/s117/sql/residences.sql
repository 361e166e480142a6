-- Person $1's residence history (core.residence), oldest first: postcode, council, ICB, from and
-- to ('' for a date not recorded, or a current residence).
SELECT postcode, coalesce(council_code, ''), coalesce(icb_code, ''),
  coalesce(from_date::text, ''), coalesce(to_date::text, '')
FROM core.residence
WHERE person_id = $1::uuid
ORDER BY from_date NULLS FIRST, residence_id
