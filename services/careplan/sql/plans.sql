-- Plan headers after keyset position ($5 next review date, $6 plan id), at most $8: plan id,
-- person id, NHS number, current version, status, key worker name, role, organisation and
-- contact, next review date, S117 and Care Act flags, agreed version (0: never), agreed at (µs
-- since the epoch, 0: never), last review date, the keyset date, the day the version in force
-- was agreed ('' for each absent date) and whether health and social care both signed it.
-- Filters (NULL: none): $1 person, $2 key worker organisation, $3 review due before; closed
-- plans only when $4; $7 only people that organisation sees. Plans with no review date sort
-- last.
SELECT p.plan_id::text, p.person_id::text, per.nhs_number, p.current_version, p.status,
  coalesce(v.content->'key_worker'->>'name', ''),
  coalesce(v.content->'key_worker'->>'role', ''),
  coalesce(p.key_worker_org, ''),
  coalesce(v.content->'key_worker'->>'contact', ''),
  coalesce(p.next_review_date::text, ''), p.is_s117_aftercare_plan, p.is_care_act_plan,
  coalesce(p.agreed_version, 0),
  coalesce((extract(epoch FROM p.agreed_at) * 1000000)::bigint, 0),
  coalesce(p.last_review_date::text, ''),
  coalesce(p.next_review_date, 'infinity'::date)::text, coalesce(p.agreed_on::text, ''),
  coalesce(careplan.signed_jointly(p.plan_id, p.signed_version), false)
FROM careplan.plan p
JOIN core.person per ON per.person_id = p.person_id
JOIN careplan.plan_version v ON v.plan_id = p.plan_id AND v.version = p.current_version
WHERE ($1::uuid IS NULL OR p.person_id = $1::uuid)
  AND ($2::text IS NULL OR p.key_worker_org = $2)
  AND ($3::date IS NULL OR p.next_review_date < $3::date)
  AND ($4 OR p.status <> 'CLOSED')
  AND (coalesce(p.next_review_date, 'infinity'::date), p.plan_id) > ($5::date, $6::uuid)
  AND ($7::text IS NULL OR core.can_see(p.person_id, $7))
ORDER BY coalesce(p.next_review_date, 'infinity'::date), p.plan_id
LIMIT $8
