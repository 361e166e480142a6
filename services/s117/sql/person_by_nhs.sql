-- The person with NHS number $1: person_id, date of birth.
SELECT person_id::text, date_of_birth::text
FROM core.person
WHERE nhs_number = $1
