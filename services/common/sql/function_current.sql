-- A row when the function definition named $1 was last applied with exactly the text $2.
SELECT 1 FROM core.schema_functions WHERE name = $1 AND definition = $2
