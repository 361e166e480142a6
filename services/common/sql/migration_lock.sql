-- Takes the migration runner's session advisory lock ($1), waiting for another instance's run.
SELECT pg_advisory_lock($1)
