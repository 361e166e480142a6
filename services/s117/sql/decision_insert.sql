-- Records body $2 ($3, its code)'s decision to end episode $1's aftercare (recorded by
-- organisation $13; $14: carried over from a previous register); $8, the other reasons, is a
-- JSON array of text.
INSERT INTO s117.end_decision (episode_id, body, body_code, decider_name, decider_role,
  decision_date, primary_reason, other_reasons, reason_text, person_involvement, consulted,
  other_care_after_discharge, recorded_by_org, migrated)
VALUES ($1::uuid, $2, $3, $4, $5, $6::date, $7, ARRAY(SELECT jsonb_array_elements_text($8::jsonb)),
  $9, $10, $11, $12, $13, $14)
