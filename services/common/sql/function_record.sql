-- Nothing: records the text $2 as the applied definition of the function file named $1.
INSERT INTO core.schema_functions (name, definition) VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, applied_at = now()
