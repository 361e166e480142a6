-- Adds an aftercare service line to episode $1 (recorded by organisation $19); an empty
-- provider code ($5) is stored as NULL. Returns the new line's id.
INSERT INTO s117.service_line (episode_id, service_type, description, provider_name,
  provider_code, need_ref, need_arises_from_mental_disorder, is_s117, start_date, funder,
  council_pct, icb_pct, split_override_reason, weekly_cost_pence, client_contribution_pence,
  delivery_mode, top_up_payer, top_up_weekly_pence, recorded_by_org)
VALUES ($1::uuid, $2, $3, $4, nullif($5, ''), $6, $7, $8, $9::date, $10, $11, $12, $13, $14, $15,
  $16, $17, $18, $19)
RETURNING service_line_id
