-- One page of the S117 register (icr.v1.RegisterRow as JSON), each row with its person id for
-- the audit, in episode id order after $1 (keyset), at most $11 rows.
--   $2, $3: whose rows the caller sees (access::RegisterScope): 'council' or 'icb', those
--           organisation $3 is the responsible body of; 'relationship', the people $3 sees.
--   $4 council, $5 ICB, $6 state (NULL: any but VOID): filters.
--   $7: the date a review is judged overdue on, and open services costed on.
--   $8: only overdue reviews; $9: only stale entitlements; $10: only those awaiting a legal
--       determination.
-- "Overdue" and "stale" are the functions s117.review_overdue and s117.stale (db/functions/s117),
-- which the indicators S117_OVERDUE and S117_STALE call too; both follow s117.policy.
-- Open S117 lines are costed per funder share; each sum of stored pence (never negative) is
-- summed as numeric and held at bigint's largest value, so amounts stored before they were
-- bounded (kMaxWeeklyPence) never fail a listing.
SELECT e.person_id::text, jsonb_build_object(
  'entitlement_id', e.episode_id,
  'nhs_number', p.nhs_number,
  'family_name', p.family_name,
  'given_name', p.given_name,
  'date_of_birth', p.date_of_birth,
  'state', e.state,
  'responsible_council_code', e.responsible_council_code,
  'council_basis', e.council_basis,
  'council_provisional', e.council_provisional,
  'responsible_icb_code', e.responsible_icb_code,
  'icb_basis', e.icb_basis,
  'or_dispute_status', e.or_dispute_status,
  'or_dispute_opened_on', e.or_dispute_opened_on,
  'council_reason', e.council_reason,
  'qualifying_section', e.qualifying_section,
  'effective_from', e.effective_from,
  'ended_on', e.ended_on,
  'last_review_date', e.last_review_date,
  'next_review_due', e.next_review_due,
  'review_overdue', judged.review_overdue,
  'on_cto', e.on_cto,
  'conditionally_discharged', e.conditionally_discharged,
  'in_hospital', e.in_hospital,
  'legal_determination_required', e.legal_determination_required,
  'open_services', costs.lines,
  'weekly_cost_pence', least(costs.total, 9223372036854775807)::bigint,
  'council_weekly_pence', least(costs.council, 9223372036854775807)::bigint,
  'icb_weekly_pence', least(costs.icb, 9223372036854775807)::bigint,
  'open_tasks', (
    SELECT count(*)
    FROM s117.task t
    WHERE t.episode_id = e.episode_id
      AND t.status = 'OPEN'),
  'version', e.version)::text
FROM s117.episode e
JOIN core.person p USING (person_id)
CROSS JOIN LATERAL (
  SELECT count(*) AS lines,
    coalesce(round(sum(l.weekly_cost_pence)), 0) AS total,
    coalesce(round(sum(l.weekly_cost_pence * l.council_pct / 100)), 0) AS council,
    coalesce(round(sum(l.weekly_cost_pence * l.icb_pct / 100)), 0) AS icb
  FROM s117.service_line l
  WHERE l.episode_id = e.episode_id
    AND l.is_s117
    AND (l.end_date IS NULL OR l.end_date > $7::date)) costs
CROSS JOIN LATERAL (
  SELECT
    e.state = 'ACTIVE' AND s117.review_overdue(e.next_review_due, $7::date) AS review_overdue,
    e.state = 'ACTIVE' AND s117.stale(e.person_id, e.episode_id, current_date) AS stale) judged
WHERE e.episode_id > $1::uuid
  AND CASE $2
    WHEN 'council' THEN e.responsible_council_code = $3
    WHEN 'icb' THEN e.responsible_icb_code = $3
    ELSE core.can_see(e.person_id, $3) END
  AND ($4::text IS NULL OR e.responsible_council_code = $4)
  AND ($5::text IS NULL OR e.responsible_icb_code = $5)
  AND CASE WHEN $6::text IS NULL THEN e.state <> 'VOID' ELSE e.state = $6 END
  AND (NOT $8::bool OR judged.review_overdue)
  AND (NOT $9::bool OR judged.stale)
  AND (NOT $10::bool OR e.legal_determination_required)
ORDER BY e.episode_id
LIMIT $11
