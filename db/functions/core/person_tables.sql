-- The tables whose rows belong to a person (a person_id column), with their primary key
-- columns: what a merge moves and an unmerge moves back (core.move_person_rows,
-- core.restore_person_rows). Found from the catalogue, so a table added later moves too. Not
-- moved: the person row itself, the append-only audit and change feed (history of who did what,
-- under the person it was about then), and caches keyed by person (record stamp and body, which
-- the stamp triggers invalidate). A table with a person_id and no primary key has no key to
-- unmerge by: key_columns is NULL, and the merge refuses (core.move_person_rows).
CREATE OR REPLACE FUNCTION core.person_tables()
RETURNS TABLE (table_name text, key_columns text[]) LANGUAGE sql STABLE AS $$
  SELECT c.oid::regclass::text,
         (SELECT array_agg(a.attname::text ORDER BY k.ord)
            FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(attnum, ord), pg_attribute a
           WHERE i.indrelid = c.oid AND i.indisprimary
             AND a.attrelid = c.oid AND a.attnum = k.attnum)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p'
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
     AND EXISTS (SELECT 1 FROM pg_attribute p
                  WHERE p.attrelid = c.oid AND p.attname = 'person_id' AND NOT p.attisdropped)
     AND c.oid::regclass::text NOT IN ('core.person', 'core.audit', 'core.changes',
                                       'core.record_stamp', 'core.record_body')
   ORDER BY 1
$$;
