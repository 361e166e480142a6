-- Stores episode $2 from its JSON $1 (the columns of s117.episode by name) if it is still at
-- version $3 (the JSON carries the next version); returns the new version, no row when someone
-- else changed it first. Every stored column but the key, generated columns and timestamps is
-- taken from the JSON.
WITH given AS (
  SELECT *
  FROM jsonb_populate_record(NULL::s117.episode, $1::jsonb)
)
UPDATE s117.episode e
SET (person_id, state, predecessor_episode_id, qualifying_section,
  legal_status_code, detention_source_org, detention_id, detention_start_date,
  detaining_provider_code, case_decision_by, case_decision_role, case_decision_rationale,
  case_decision_date, s17_trigger_by, s17_trigger_role, s17_trigger_rationale, s17_trigger_date,
  ceased_detained_date, left_hospital_date, effective_from, cto_start_date, cto_end_date,
  conditional_discharge_date, absolute_discharge_date, responsible_council_code, council_basis,
  council_provisional, ordinary_residence_evidence, council_reason, or_dispute_status,
  or_dispute_opened_on, or_dispute_closed_on, responsible_icb_code,
  icb_basis, gp_practice_at_application, responsibility_rule_version, in_hospital,
  legal_determination_required, pending_detention_source_org, pending_detention_id,
  pending_detention_start_date, pending_legal_status_code, last_review_date, next_review_due,
  ended_on, notification_sent_date, void_reason, registered_on, source_ref, end_migrated, import_digest, version) = (
    SELECT person_id, state, predecessor_episode_id, qualifying_section,
      legal_status_code, detention_source_org, detention_id, detention_start_date,
      detaining_provider_code, case_decision_by, case_decision_role, case_decision_rationale,
      case_decision_date, s17_trigger_by, s17_trigger_role, s17_trigger_rationale,
      s17_trigger_date, ceased_detained_date, left_hospital_date, effective_from,
      cto_start_date, cto_end_date, conditional_discharge_date, absolute_discharge_date,
      responsible_council_code, council_basis, council_provisional,
      ordinary_residence_evidence, council_reason, or_dispute_status, or_dispute_opened_on,
      or_dispute_closed_on, responsible_icb_code, icb_basis,
      gp_practice_at_application, responsibility_rule_version, in_hospital,
      legal_determination_required, pending_detention_source_org, pending_detention_id,
      pending_detention_start_date, pending_legal_status_code, last_review_date,
      next_review_due, ended_on, notification_sent_date, void_reason, registered_on,
      source_ref, end_migrated, import_digest, version
    FROM given),
  updated_at = now()
WHERE e.episode_id = $2::uuid
  AND e.version = $3
RETURNING e.version
