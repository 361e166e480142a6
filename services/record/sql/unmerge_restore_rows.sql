-- Unmerge of merge $1 (core.restore_person_rows): the superseded person back, then every row the
-- merge moved or absorbed; returns the log rows that could not be restored.
SELECT table_name, action, row_data::text FROM core.restore_person_rows($1::uuid)
