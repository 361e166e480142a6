-- Records person $1's date of death $2, a new version of the person. Returns nothing.
UPDATE core.person
SET date_of_death = $2::date, version = version + 1, updated_at = now()
WHERE person_id = $1::uuid
