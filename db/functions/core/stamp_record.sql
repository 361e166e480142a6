-- Stamps the people of the rows a statement wrote. Transition tables: `changed` (new rows of an
-- insert or update), `gone` (old rows of an update or delete). Ordered, so two transactions
-- stamping the same people take their locks in the same order.
CREATE OR REPLACE FUNCTION core.stamp_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO core.record_stamp (person_id, txid)
    SELECT DISTINCT person_id, pg_current_xact_id() FROM changed
     WHERE person_id IS NOT NULL ORDER BY person_id
    ON CONFLICT (person_id) DO UPDATE SET txid = EXCLUDED.txid
     WHERE core.record_stamp.txid <> EXCLUDED.txid;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO core.record_stamp (person_id, txid)
    SELECT person_id, pg_current_xact_id()
      FROM (SELECT person_id FROM changed UNION SELECT person_id FROM gone) x
     WHERE person_id IS NOT NULL ORDER BY person_id
    ON CONFLICT (person_id) DO UPDATE SET txid = EXCLUDED.txid
     WHERE core.record_stamp.txid <> EXCLUDED.txid;
  ELSE
    INSERT INTO core.record_stamp (person_id, txid)
    SELECT DISTINCT person_id, pg_current_xact_id() FROM gone
     WHERE person_id IS NOT NULL ORDER BY person_id
    ON CONFLICT (person_id) DO UPDATE SET txid = EXCLUDED.txid
     WHERE core.record_stamp.txid <> EXCLUDED.txid;
  END IF;
  RETURN NULL;
END
$$;
