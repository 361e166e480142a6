-- Empties the store's kept integrated-record bodies (migration 0010); returns nothing.
DELETE FROM core.record_body
