-- Person $1's date of birth.
SELECT date_of_birth::text
FROM core.person
WHERE person_id = $1::uuid
