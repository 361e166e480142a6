-- Releases the migration runner's advisory lock ($1); returns whether it was held.
SELECT pg_advisory_unlock($1)
