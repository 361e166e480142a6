-- GetIntegratedRecord's look-ups (0013) audit an NHS number of no one too, as not_found, so a
-- refusal looks like absence in the trail as well as in the answer: every person-level call
-- writes an audit row, whether the person is invisible (denied) or does not exist (not_found),
-- as Access does for the other calls (services/common/access_rule: DecideRead). Rows are still
-- returned only for people found.
CREATE OR REPLACE FUNCTION core.lookup_records(p_nhs bpchar[], p_org text[], p_role text[],
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
      LEFT JOIN core.person p ON p.nhs_number = q.nhs
      LEFT JOIN core.record_stamp s ON s.person_id = p.person_id),
  v AS MATERIALIZED (
    SELECT q.*, q.version = q.seen_version AS fresh,
           CASE WHEN q.person_id IS NULL THEN false
                WHEN q.version = q.seen_version AND q.seen_visible <> ''
                THEN q.seen_visible::boolean
                ELSE core.can_see(q.person_id, q.org) END AS visible
      FROM q),
  audit AS (
    INSERT INTO core.audit (org_code, role, person_id, action, purpose_of_use, request_id,
                            outcome, break_glass_reason)
    SELECT v.org, v.role, v.person_id, 'GetIntegratedRecord', v.purpose, v.request_id,
           CASE WHEN v.person_id IS NULL THEN 'not_found'
                WHEN v.visible OR v.reason <> '' THEN 'ok' ELSE 'denied' END, v.reason
      FROM v ORDER BY v.ord)
  SELECT v.ord, v.person_id, v.visible, v.fresh, v.version,
         CASE WHEN NOT v.fresh AND (v.visible OR v.reason <> '')
              THEN (SELECT b.body FROM core.record_body b
                     WHERE b.person_id = v.person_id AND b.version = v.version) END
    FROM v WHERE v.person_id IS NOT NULL;
END
$$;
