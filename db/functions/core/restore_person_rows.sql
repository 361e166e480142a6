-- An unmerge's moves: the superseded person's row back as it was, then the rows merge p_merge moved from its superseded person to its survivor
-- go back (found by the primary key they had after the move, and only while still the
-- survivor's), and the rows it absorbed are put back whole, in the reverse order of the merge.
-- Returns the log rows that could not be restored (gone or changed hands since the merge); the
-- caller refuses the unmerge, rolling back, when there are any. Runs with icr.moving_person on,
-- as core.move_person_rows.
CREATE OR REPLACE FUNCTION core.restore_person_rows(p_merge uuid)
RETURNS TABLE (table_name text, action text, row_data jsonb) LANGUAGE plpgsql AS $$
DECLARE
  m core.person_merge%ROWTYPE;
  r core.person_merge_row%ROWTYPE;
  match text;
  n bigint;
BEGIN
  SELECT * INTO m FROM core.person_merge WHERE merge_id = p_merge;
  PERFORM set_config('icr.moving_person', 'on', true);
  INSERT INTO core.person
  SELECT * FROM jsonb_populate_record(NULL::core.person, m.superseded_person);
  FOR r IN SELECT * FROM core.person_merge_row WHERE merge_id = p_merge ORDER BY ord DESC LOOP
    IF r.action = 'moved' THEN
      SELECT string_agg(format('x.%I = k.%I', key, key), ' AND ') INTO match
        FROM jsonb_object_keys(r.row_data) key;
      EXECUTE format(
        'UPDATE %1$s x SET person_id = $1 FROM jsonb_populate_record(NULL::%1$s, $2) k '
        ' WHERE %2$s AND x.person_id = $3', r.table_name, match)
        USING m.superseded_id, r.row_data, m.survivor_id;
    ELSE
      EXECUTE format('INSERT INTO %1$s SELECT * FROM jsonb_populate_record(NULL::%1$s, $1) '
                     'ON CONFLICT DO NOTHING', r.table_name) USING r.row_data;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN
      table_name := r.table_name;
      action := r.action;
      row_data := r.row_data;
      RETURN NEXT;
    END IF;
  END LOOP;
  PERFORM set_config('icr.moving_person', 'off', true);
END
$$;
