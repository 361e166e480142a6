-- Entitlement $1 as the proto's JSON (icr.v1.Entitlement), with its history when $2: the
-- episode's columns carry the proto's field names; nested parts and lists are built here.
SELECT (to_jsonb(e) || jsonb_build_object(
  'entitlement_id', e.episode_id,
  'nhs_number', p.nhs_number,
  'successor_episode_id', (
    SELECT s.episode_id
    FROM s117.episode s
    WHERE s.predecessor_episode_id = e.episode_id
      AND s.state <> 'VOID'
    ORDER BY s.created_at DESC
    LIMIT 1),
  'case_decision', CASE WHEN e.case_decision_date IS NOT NULL THEN jsonb_build_object(
    'by', e.case_decision_by,
    'role', e.case_decision_role,
    'date', e.case_decision_date,
    'rationale', e.case_decision_rationale) END,
  's17_trigger', CASE WHEN e.s17_trigger_date IS NOT NULL THEN jsonb_build_object(
    'by', e.s17_trigger_by,
    'role', e.s17_trigger_role,
    'date', e.s17_trigger_date,
    'rationale', e.s17_trigger_rationale) END,
  'council', jsonb_build_object(
    'code', e.responsible_council_code,
    'basis', e.council_basis,
    'evidence', e.ordinary_residence_evidence,
    'provisional', e.council_provisional),
  'icb', jsonb_build_object(
    'code', e.responsible_icb_code,
    'basis', e.icb_basis,
    'gp_practice_at_application', e.gp_practice_at_application),
  'services', (
    SELECT coalesce(jsonb_agg(to_jsonb(l) ORDER BY l.start_date, l.recorded_at), '[]')
    FROM s117.service_line l
    WHERE l.episode_id = e.episode_id),
  'reviews', (
    SELECT coalesce(jsonb_agg(to_jsonb(v) || jsonb_build_object(
      'council_rep', jsonb_build_object(
        'name', v.council_rep_name,
        'role', v.council_rep_role,
        'organisation_code', v.council_rep_org),
      'health_rep', jsonb_build_object(
        'name', v.health_rep_name,
        'role', v.health_rep_role,
        'organisation_code', v.health_rep_org))
      ORDER BY v.review_date DESC, v.recorded_at DESC), '[]')
    FROM s117.review v
    WHERE v.episode_id = e.episode_id),
  'end_decisions', (
    SELECT coalesce(jsonb_agg(to_jsonb(d) || jsonb_build_object(
      'decider', jsonb_build_object(
        'name', d.decider_name,
        'role', d.decider_role,
        'organisation_code', d.body_code))
      ORDER BY d.recorded_at), '[]')
    FROM s117.end_decision d
    WHERE d.episode_id = e.episode_id
      AND d.rescinded_at IS NULL),
  'tasks', (
    SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.created_at), '[]')
    FROM s117.task t
    WHERE t.episode_id = e.episode_id),
  'detentions', (
    SELECT coalesce(jsonb_agg(to_jsonb(x) ORDER BY x.started_on, x.recorded_at), '[]')
    FROM s117.episode_detention x
    WHERE x.episode_id = e.episode_id),
  'history', CASE WHEN $2 THEN (
    SELECT coalesce(jsonb_agg(jsonb_build_object(
      'version', h.version,
      'at', h.at,
      'actor_org', h.actor_org,
      'actor_role', h.actor_role,
      'action', h.action,
      'reason', h.reason,
      'snapshot_json', h.snapshot::text)
      ORDER BY h.version), '[]')
    FROM s117.episode_history h
    WHERE h.episode_id = e.episode_id) ELSE '[]'::jsonb END))::text
FROM s117.episode e
JOIN core.person p USING (person_id)
WHERE e.episode_id = $1::uuid
