-- A cache of the integrated record (GetIntegratedRecord) as serialised protobuf, so a repeat
-- read is one indexed look-up instead of a dozen sub-selects. The cache never decides what a
-- caller sees (visibility is checked on every read) and never replaces the audit row (written
-- for every read); it only saves rebuilding the same body.
--
-- Validity: every write to a table the record is built from stamps the person with the writing
-- transaction's id (core.record_stamp, by the statement-level triggers below, so no write path
-- can forget it). A body is stored with the stamp its read saw, in the same snapshot; it is used
-- only while the stamp is unchanged and on the date it was built (the record shows services open
-- today). A write that commits after the body was read changes the stamp, so the stale body is
-- never used, whatever order the write and the cache fill commit in.

CREATE TABLE core.record_stamp (
  person_id uuid PRIMARY KEY,
  txid      xid8 NOT NULL    -- the last transaction that wrote any part of the record
);

CREATE TABLE core.record_body (
  person_id uuid PRIMARY KEY,
  stamp     xid8,            -- core.record_stamp.txid when the body was read (NULL: no stamp)
  as_of     date NOT NULL,   -- current_date when the body was read
  body      bytea NOT NULL   -- icr.v1.IntegratedRecord, serialised (break_glass unset)
);

-- Stamps the people of the rows a statement wrote. Transition tables: `changed` (new rows of an
-- insert or update), `gone` (old rows of an update or delete). Ordered, so two transactions
-- stamping the same people take their locks in the same order.
CREATE FUNCTION core.stamp_record() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- The same for S117 service lines, whose person is their episode's (`changed`: the new rows of
-- an insert or update, the old rows of a delete).
CREATE FUNCTION core.stamp_record_by_episode() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO core.record_stamp (person_id, txid)
  SELECT DISTINCT e.person_id, pg_current_xact_id()
    FROM s117.episode e
   WHERE e.episode_id IN (SELECT episode_id FROM changed) ORDER BY e.person_id
  ON CONFLICT (person_id) DO UPDATE SET txid = EXCLUDED.txid
   WHERE core.record_stamp.txid <> EXCLUDED.txid;
  RETURN NULL;
END
$$;

-- Reference data shown in the record (code descriptions, legal statuses, service types): a
-- change empties the whole cache.
CREATE FUNCTION core.clear_record_bodies() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM core.record_body;
  RETURN NULL;
END
$$;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['core.person', 'core.person_identifier', 'core.referral',
      'core.hospital_spell', 'core.detention', 'core.key_worker', 'core.status_observation',
      'core.social_care_event', 'core.carer_assessment', 'careplan.plan', 's117.episode'] LOOP
    EXECUTE format('CREATE TRIGGER stamp_record_insert AFTER INSERT ON %s '
                   'REFERENCING NEW TABLE AS changed FOR EACH STATEMENT '
                   'EXECUTE FUNCTION core.stamp_record()', t);
    EXECUTE format('CREATE TRIGGER stamp_record_update AFTER UPDATE ON %s '
                   'REFERENCING OLD TABLE AS gone NEW TABLE AS changed FOR EACH STATEMENT '
                   'EXECUTE FUNCTION core.stamp_record()', t);
    EXECUTE format('CREATE TRIGGER stamp_record_delete AFTER DELETE ON %s '
                   'REFERENCING OLD TABLE AS gone FOR EACH STATEMENT '
                   'EXECUTE FUNCTION core.stamp_record()', t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['core.code_list', 'core.mha_legal_status', 's117.service_type'] LOOP
    EXECUTE format('CREATE TRIGGER clear_record_bodies AFTER INSERT OR UPDATE OR DELETE OR '
                   'TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION core.clear_record_bodies()',
                   t);
  END LOOP;
END
$$;

CREATE TRIGGER stamp_record_insert AFTER INSERT ON s117.service_line
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
  EXECUTE FUNCTION core.stamp_record_by_episode();
CREATE TRIGGER stamp_record_update AFTER UPDATE ON s117.service_line
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT
  EXECUTE FUNCTION core.stamp_record_by_episode();
CREATE TRIGGER stamp_record_delete AFTER DELETE ON s117.service_line
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT
  EXECUTE FUNCTION core.stamp_record_by_episode();
