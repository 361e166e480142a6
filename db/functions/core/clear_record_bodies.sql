-- Trigger: empties the cache of built record bodies and moves core.record_epoch on, when
-- reference data they were built from changes.
CREATE OR REPLACE FUNCTION core.clear_record_bodies() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM core.record_body;
  UPDATE core.record_epoch SET n = n + 1;
  RETURN NULL;
END
$$;
