-- The NHS number of the stored person the local identifier (system $1, value $2) belongs to.
SELECT p.nhs_number
FROM core.person_identifier i
JOIN core.person p ON p.person_id = i.person_id
WHERE i.system = $1 AND i.value = $2
