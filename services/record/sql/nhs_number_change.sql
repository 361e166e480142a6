-- Person $1's NHS number becomes $2 (a new version of the person).
UPDATE core.person SET nhs_number = $2, version = version + 1, updated_at = now()
WHERE person_id = $1::uuid
