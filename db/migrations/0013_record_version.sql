-- The version of a person's integrated record, so icr-server can keep record bodies and
-- visibility answers in its own memory and check them in the same statement that writes the
-- read's audit row (core.lookup_records below), instead of reading the body from the store on
-- every call.
--
-- A version is "<stamp>/<epoch>/<day>": the person's record stamp (migration 0010), the epoch
-- of the reference data shown in records, and the date (the record shows services open today).
-- Anything that can change what GetIntegratedRecord returns for a person changes one of them:
-- - a write to any table the record is built from stamps the person (0010's triggers);
-- - a write to a table core.can_see reads stamps the person too: 0010 covered core.person,
--   referral, hospital_spell, key_worker and s117.episode; the two below complete the rule, so
--   an unchanged stamp means an unchanged answer to "may this organisation see them";
-- - a change of reference data (code descriptions, legal statuses, service types) bumps the
--   epoch as well as emptying the stored bodies.
-- The bodies kept in the store (core.record_body) are keyed by the same version, read in the
-- snapshot the body was built in, instead of 0010's stamp and date: a body built just before a
-- reference-data change and kept just after it can no longer be served.

CREATE TABLE core.record_epoch (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  n        bigint NOT NULL
);
INSERT INTO core.record_epoch (n) VALUES (1);

CREATE OR REPLACE FUNCTION core.clear_record_bodies() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM core.record_body;
  UPDATE core.record_epoch SET n = n + 1;
  RETURN NULL;
END
$$;

-- A record version from its parts: the person's stamp (NULL: none), the reference epoch and
-- the date. Immutable and free of sub-selects, so the planner inlines it where it is used.
CREATE FUNCTION core.record_version(stamp xid8, epoch bigint, day date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(stamp::text, '-') || '/' || epoch::text || '/' || (day - DATE '2000-01-01')::text
$$;

DELETE FROM core.record_body;
ALTER TABLE core.record_body DROP COLUMN stamp, DROP COLUMN as_of, ADD COLUMN version text NOT NULL;

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['core.person_relationship', 'careplan.plan_org'] LOOP
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
END
$$;

-- GetIntegratedRecord's look-ups, several callers' in one call (RecordStore::LookupRecords):
-- arrays of NHS numbers, the callers' organisation, role, purpose, request id and break-glass
-- reason, the record version the server holds a body for ('' for none) and the caller's
-- visibility it remembers at that version ('' for unknown). For each person found (no row, and
-- nothing audited, for an NHS number of no one): whether the caller may see them (core.can_see
-- runs only where the remembered answer is missing or stale), whether the held body is still
-- current (fresh), the current version, and when it is not fresh and the caller may read, the
-- body kept in core.record_body if it is current. Writes the audit row of every read, its
-- outcome as Access::Decide: ok when visible or breaking glass, else denied.
-- A function so that its plan is generic and kept: as a prepared statement, the length of the
-- arrays made every custom plan look cheaper than the generic one, so it was planned again on
-- every call (~0.6 ms). Without JIT: with the generic plan's guess of the arrays' length, the
-- plan's cost could pass jit_above_cost, and compiling took far longer than running it.
CREATE FUNCTION core.lookup_records(p_nhs bpchar[], p_org text[], p_role text[],
    p_purpose text[], p_request_id text[], p_reason text[], p_seen_version text[],
    p_seen_visible text[])
RETURNS TABLE (ord bigint, person_id uuid, visible boolean, fresh boolean, version text,
               body bytea)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET jit = off AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH q AS MATERIALIZED (
    SELECT q.ord, p.person_id, q.org, q.role, q.purpose, q.request_id, q.reason,
           core.record_version(s.txid, (SELECT e.n FROM core.record_epoch e), current_date)
             AS version,
           q.seen_version, q.seen_visible
      FROM unnest(p_nhs, p_org, p_role, p_purpose, p_request_id, p_reason, p_seen_version,
                  p_seen_visible) WITH ORDINALITY
           AS q(nhs, org, role, purpose, request_id, reason, seen_version, seen_visible, ord)
      JOIN core.person p ON p.nhs_number = q.nhs
      LEFT JOIN core.record_stamp s ON s.person_id = p.person_id),
  v AS MATERIALIZED (
    SELECT q.*, q.version = q.seen_version AS fresh,
           CASE WHEN q.version = q.seen_version AND q.seen_visible <> ''
                THEN q.seen_visible::boolean
                ELSE core.can_see(q.person_id, q.org) END AS visible
      FROM q),
  audit AS (
    INSERT INTO core.audit (org_code, role, person_id, action, purpose_of_use, request_id,
                            outcome, break_glass_reason)
    SELECT v.org, v.role, v.person_id, 'GetIntegratedRecord', v.purpose, v.request_id,
           CASE WHEN v.visible OR v.reason <> '' THEN 'ok' ELSE 'denied' END, v.reason
      FROM v ORDER BY v.ord)
  SELECT v.ord, v.person_id, v.visible, v.fresh, v.version,
         CASE WHEN NOT v.fresh AND (v.visible OR v.reason <> '')
              THEN (SELECT b.body FROM core.record_body b
                     WHERE b.person_id = v.person_id AND b.version = v.version) END
    FROM v;
END
$$;
