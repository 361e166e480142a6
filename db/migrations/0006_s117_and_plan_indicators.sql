-- Section 117 oversight indicators (kpi-catalogue.md; local measures, no national set exists)
-- and the care plan review measure. Thresholds the catalogue names (28 days, 12 months) are in
-- the definitions' SQL; change them with a new indicator version.
INSERT INTO perf.indicator (indicator_id, name, owner, grp, definition, unit, kind, target, direction, display_order) VALUES
  ('S117_ACTIVE', 'People on the S117 register', 'joint', 's117',
   'Entitlements in force at period end (left hospital on or before it and not ended by then).',
   'count', 'count', NULL, 'none', 200),
  ('S117_REGISTERED_28D', 'Qualifying discharges registered within 28 days', 'joint', 's117',
   'Discharges in the period from a hospital stay with a qualifying detention (s3, s37, s45A, s47, s48) whose entitlement was on the register no later than 28 days after leaving hospital.',
   'percent', 'ratio', 100, 'higher', 210),
  ('S117_JOINT_PLAN', 'Active entitlements with a current joint aftercare plan', 'joint', 's117',
   'Entitlements in force at period end for at least 28 days whose S117 aftercare plan is agreed, signed off by both health and the council, names a funder for every S117 service, and was agreed or reviewed in the 12 months to period end.',
   'percent', 'ratio', 95, 'higher', 220),
  ('S117_PLAN_AT_DISCHARGE', 'Aftercare plan in place at discharge', 'joint', 's117',
   'Entitlements that came into force in the period with an agreed S117 aftercare plan on or before the day the person left hospital.',
   'percent', 'ratio', NULL, 'higher', 230),
  ('S117_REVIEWED_12M', 'Joint review in the last 12 months', 'joint', 's117',
   'Entitlements in force at period end for at least 12 months with a joint review (council and health both taking part) in the 12 months to period end.',
   'percent', 'ratio', 100, 'higher', 240),
  ('S117_OVERDUE', 'Overdue S117 reviews', 'joint', 's117',
   'Entitlements in force at period end whose next review was due before period end with no review since.',
   'count', 'count', 0, 'lower', 250),
  ('S117_ENDED', 'Entitlements ended', 'joint', 's117',
   'Entitlements ended in the period: joint discharge, superseded by a new qualifying detention, or death (records voided in error excluded).',
   'count', 'count', NULL, 'none', 260),
  ('S117_END_EXCEPTIONS', 'Ends without both decisions (exceptions)', 'joint', 's117',
   'Entitlements ended by discharge in the period without a standing decision from both the council and the ICB: each is an exception to investigate.',
   'count', 'count', 0, 'lower', 270),
  ('S117_STALE', 'Active entitlements with no open referral and no review in 12 months', 'joint', 's117',
   'Entitlements in force at period end where the person has no open mental health referral and there was no review in the 12 months to period end.',
   'count', 'count', 0, 'lower', 280),
  ('S117_COST_COUNCIL', 'Committed weekly cost of S117 aftercare: council share', 'joint', 's117',
   'Sum of the weekly cost of S117 service lines open at period end, times each line''s council percentage, in pounds.',
   'pounds_per_week', 'sum', NULL, 'none', 290),
  ('S117_COST_ICB', 'Committed weekly cost of S117 aftercare: ICB share', 'joint', 's117',
   'Sum of the weekly cost of S117 service lines open at period end, times each line''s ICB percentage, in pounds.',
   'pounds_per_week', 'sum', NULL, 'none', 300),
  ('S117_SELF_DIRECTED', 'People receiving S117 aftercare by direct payment or personal health budget', 'joint', 's117',
   'People with an entitlement in force at period end and an open S117 service line delivered as a direct payment or personal health budget.',
   'count', 'count', NULL, 'higher', 310);

-- An entitlement in force on a date: came into force on or before it and not ended by then.
CREATE FUNCTION perf.s117_in_force(p_at date)
RETURNS SETOF s117.episode
LANGUAGE sql STABLE AS $$
  SELECT e.* FROM s117.episode e
   WHERE e.state <> 'VOID' AND e.effective_from IS NOT NULL AND e.effective_from <= p_at
     AND (e.ended_on IS NULL OR e.ended_on > p_at)
$$;
