-- Version $2 of plan $1 (0: the current one): version, status, content (JSON), change, change
-- reason, the version whose sign-offs it shows, created at (µs since the epoch), created by;
-- then the plan's current version, agreed version (0: never), agreed at (µs, 0: never), person
-- id and NHS number, the day it was started, the day the version in force was agreed ('':
-- never), whether health and social care both signed the version in force, and its reference
-- in the system it was imported from ('': none).
SELECT v.version, v.status, v.content::text, v.change, v.change_reason,
  coalesce(v.signed_version, v.version), (extract(epoch FROM v.created_at) * 1000000)::bigint,
  v.created_by_org, p.current_version, coalesce(p.agreed_version, 0),
  coalesce((extract(epoch FROM p.agreed_at) * 1000000)::bigint, 0), p.person_id::text,
  per.nhs_number, p.started_on::text, coalesce(p.agreed_on::text, ''),
  coalesce(careplan.signed_jointly(p.plan_id, p.signed_version), false),
  coalesce(p.source_ref, '')
FROM careplan.plan_version v
JOIN careplan.plan p ON p.plan_id = v.plan_id
JOIN core.person per ON per.person_id = p.person_id
WHERE v.plan_id = $1::uuid
  AND v.version = CASE WHEN $2 = 0 THEN p.current_version ELSE $2 END
