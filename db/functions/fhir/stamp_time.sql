-- Keeps core.record_stamp.stamped_at (migration 0021) the time of the transaction that last
-- stamped the person's record, for bulk export's _since.
CREATE OR REPLACE FUNCTION fhir.stamp_time() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.txid IS DISTINCT FROM OLD.txid THEN
    NEW.stamped_at := now();
  END IF;
  RETURN NEW;
END
$$;
