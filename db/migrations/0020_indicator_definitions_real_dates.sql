-- The indicators count by the dates things really happened (README "Dates of the past"), not
-- the day they were recorded: their definitions, as the dashboard shows them, say so.
UPDATE perf.indicator SET definition =
  'People with an adult mental health referral open at period end and opened at least 12 months before it, whose care plan was agreed (the day its last needed sign-off was given) or reviewed (the review''s date) in the 12 months to period end.'
WHERE indicator_id = 'PLAN12';

UPDATE perf.indicator SET definition =
  'Discharges in the period from a hospital stay with a qualifying detention (s3, s37, s45A, s47, s48) whose entitlement was registered (its registration date, not the day it was keyed) no later than 28 days after leaving hospital.'
WHERE indicator_id = 'S117_REGISTERED_28D';

UPDATE perf.indicator SET definition =
  'Entitlements in force at period end for at least 28 days whose S117 aftercare plan was agreed by period end, signed off by both health and the council (a later sign-off of the version in force counts), names a funder for every S117 service, and was agreed or reviewed in the 12 months to period end, by the days these really happened.'
WHERE indicator_id = 'S117_JOINT_PLAN';

UPDATE perf.indicator SET definition =
  'Entitlements that came into force in the period with an S117 aftercare plan agreed (the day its sign-offs were complete) on or before the day the duty came into force.'
WHERE indicator_id = 'S117_PLAN_AT_DISCHARGE';

UPDATE perf.indicator SET definition =
  'Entitlements in force at period end for at least 12 months with a joint review (the council and health both attended; single-agency reviews and reviews carried over without attendance do not count) in the 12 months to period end.'
WHERE indicator_id = 'S117_REVIEWED_12M';
