-- What merge $1 did, in order: table, fate ('moved', 'absorbed'), key or whole row.
SELECT table_name, action, row_data::text FROM core.person_merge_row
WHERE merge_id = $1::uuid ORDER BY ord
