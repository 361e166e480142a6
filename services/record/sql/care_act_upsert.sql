-- Care Act events (an update of the same person's event of the same kind changes its end, outcome,
-- mechanism and cost) deferred to the end of a batch (PendingWrites), one row per element of the
-- arrays: $1 is the organisation, then one text array per column (person, id, kind, council, start,
-- end or '', outcome, assessment type, service type, mechanism, primary support reason, weekly
-- pence), rows in order. Returns the key of every row it wrote, so a row it did not write (its id
-- used for another person or kind) is known.
INSERT INTO core.social_care_event AS s (person_id, source_org, care_act_id, kind, council_code,
  start_date, end_date, outcome, assessment_type, service_type, delivery_mechanism,
  primary_support_reason, weekly_cost_pence)
SELECT u.p::uuid, $1, u.id, u.kind, u.council, u.sd::date, nullif(u.ed, '')::date, u.outcome,
  u.atype, u.stype, u.mech, u.psr, u.cost::bigint
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
    $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
  WITH ORDINALITY AS u(p, id, kind, council, sd, ed, outcome, atype, stype, mech, psr, cost, n)
ORDER BY u.n
ON CONFLICT (source_org, care_act_id) DO UPDATE
SET end_date = EXCLUDED.end_date, outcome = EXCLUDED.outcome,
  delivery_mechanism = EXCLUDED.delivery_mechanism, weekly_cost_pence = EXCLUDED.weekly_cost_pence
WHERE s.person_id = EXCLUDED.person_id AND s.kind = EXCLUDED.kind
RETURNING care_act_id
