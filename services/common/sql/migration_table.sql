-- Nothing: creates the table of applied migrations when the store is new.
CREATE TABLE IF NOT EXISTS core.schema_migrations (
  name text PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now())
