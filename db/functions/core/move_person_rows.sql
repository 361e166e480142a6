-- A merge's moves: every row of p_from in every person table (core.person_tables) becomes
-- p_to's. Where the primary key includes person_id and p_to already has the row's key (the same
-- organisation's relationship), or where the table allows one current row per person and both
-- have one (core.residence), the row is absorbed: deleted, and returned whole so an unmerge can
-- put it back. Returns each row's fate: 'moved' with its primary key after the move,
-- 'absorbed' with the whole row. Runs with icr.moving_person on for the transaction, so the
-- relationship triggers (core.relate) leave the relationship rows to this function and the
-- append-only guards admit a change of person_id alone. Identifiers in the dynamic statements
-- come from the catalogue only; the people are bound parameters.
CREATE OR REPLACE FUNCTION core.move_person_rows(p_from uuid, p_to uuid)
RETURNS TABLE (table_name text, action text, row_data jsonb) LANGUAGE plpgsql AS $$
DECLARE
  t record;
  key_json text;
  same_key text;
BEGIN
  PERFORM set_config('icr.moving_person', 'on', true);
  FOR t IN SELECT * FROM core.person_tables() LOOP
    IF t.key_columns IS NULL THEN
      RAISE EXCEPTION 'person table % has no primary key', t.table_name
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    SELECT 'jsonb_build_object(' || string_agg(format('%L, x.%I', k, k), ', ') || ')',
           coalesce(string_agg(format('s.%I = x.%I', k, k), ' AND ')
                      FILTER (WHERE k <> 'person_id'), 'true')
      INTO key_json, same_key FROM unnest(t.key_columns) k;
    -- One current residence per person (core.residence_one_current): the survivor's stands; the
    -- superseded person's current one is absorbed, their earlier ones move.
    IF t.table_name = 'core.residence' THEN
      RETURN QUERY
        WITH gone AS (
          DELETE FROM core.residence x
           WHERE x.person_id = p_from AND x.to_date IS NULL
             AND EXISTS (SELECT 1 FROM core.residence s WHERE s.person_id = p_to AND s.to_date IS NULL)
          RETURNING to_jsonb(x) AS r)
        SELECT t.table_name, 'absorbed'::text, r FROM gone;
    END IF;
    IF 'person_id' = ANY (t.key_columns) THEN
      RETURN QUERY EXECUTE format(
        'WITH gone AS (DELETE FROM %1$s x WHERE x.person_id = $1 AND EXISTS '
        '  (SELECT 1 FROM %1$s s WHERE s.person_id = $2 AND %2$s) RETURNING to_jsonb(x) AS r) '
        'SELECT %3$L::text, ''absorbed''::text, r FROM gone ORDER BY r::text',
        t.table_name, same_key, t.table_name) USING p_from, p_to;
    END IF;
    RETURN QUERY EXECUTE format(
      'WITH moved AS (UPDATE %1$s x SET person_id = $2 WHERE x.person_id = $1 RETURNING %2$s AS k) '
      'SELECT %3$L::text, ''moved''::text, k FROM moved ORDER BY k::text',
      t.table_name, key_json, t.table_name) USING p_from, p_to;
  END LOOP;
  PERFORM set_config('icr.moving_person', 'off', true);
END
$$;
