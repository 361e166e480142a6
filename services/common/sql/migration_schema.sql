-- Nothing: creates the schema of the migration runner's tables when the store is new.
CREATE SCHEMA IF NOT EXISTS core
