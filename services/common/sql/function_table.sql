-- Nothing: creates the table holding the text each function definition file had when applied.
CREATE TABLE IF NOT EXISTS core.schema_functions (
  name text PRIMARY KEY,
  definition text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now())
