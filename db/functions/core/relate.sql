-- Keeps core.relationship in step with a source table, statement by statement (transition
-- tables `changed` and `gone`). TG_ARGV: 0 the kind, 1 the organisation (an expression over the
-- source row), 2 the source id (an expression), 3 the condition under which it is current.
-- Rows that are gone or changed are closed, then those current now are (re)opened, in one
-- order so that concurrent writers lock alike. While a merge or unmerge moves a person's rows
-- (icr.moving_person, core.move_person_rows), the relationship rows are moved with them, as
-- they are, so nothing is closed or opened here.
CREATE OR REPLACE FUNCTION core.relate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('icr.moving_person', true) = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    EXECUTE format(
      'UPDATE core.relationship r SET to_at = now() '
      'FROM (SELECT DISTINCT person_id, %1$s AS org, %2$s AS src FROM gone) g '
      'WHERE r.person_id = g.person_id AND r.org_code = g.org AND r.kind = %3$L '
      '  AND r.source_id = g.src AND r.to_at IS NULL', TG_ARGV[1], TG_ARGV[2], TG_ARGV[0]);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    EXECUTE format(
      'INSERT INTO core.relationship (person_id, org_code, kind, source_id) '
      'SELECT DISTINCT person_id, %1$s, %3$L, %2$s FROM changed '
      ' WHERE %1$s IS NOT NULL AND %1$s <> '''' AND (%4$s) ORDER BY 1, 2, 4 '
      'ON CONFLICT (person_id, org_code, kind, source_id) DO UPDATE SET to_at = NULL '
      '  WHERE core.relationship.to_at IS NOT NULL',
      TG_ARGV[1], TG_ARGV[2], TG_ARGV[0], TG_ARGV[3]);
  END IF;
  RETURN NULL;
END
$$;
