-- A row when the migration named $1 has been applied.
SELECT 1 FROM core.schema_migrations WHERE name = $1
