-- Nothing: records the migration named $1 as applied.
INSERT INTO core.schema_migrations (name) VALUES ($1)
