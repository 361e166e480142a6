-- The same for S117 service lines, whose person is their episode's (`changed`: the new rows of
-- an insert or update, the old rows of a delete).
CREATE OR REPLACE FUNCTION core.stamp_record_by_episode() RETURNS trigger LANGUAGE plpgsql AS $$
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
