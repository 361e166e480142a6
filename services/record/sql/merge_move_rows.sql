-- Merge $1's moves (core.move_person_rows of person $2 to person $3), logged in order in
-- core.person_merge_row; returns each row's table, fate and key (or whole row).
WITH moved AS (
  SELECT row_number() OVER () AS ord, m.* FROM core.move_person_rows($2::uuid, $3::uuid) m
)
INSERT INTO core.person_merge_row (merge_id, ord, table_name, action, row_data)
SELECT $1::uuid, ord, table_name, action, row_data FROM moved
RETURNING table_name, action, row_data::text
