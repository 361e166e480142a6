-- The id of the person the local identifier (system $1, value $2) belongs to.
SELECT person_id::text
FROM core.person_identifier
WHERE system = $1 AND value = $2
