-- The sign-offs of plan $1 at version $2, first signed first: agency, organisation, signed by,
-- role, signed at (µs since the epoch), version, signed on.
SELECT agency, org_code, signed_by, role, (extract(epoch FROM signed_at) * 1000000)::bigint,
  version, signed_on::text
FROM careplan.signoff
WHERE plan_id = $1::uuid
  AND version = $2
ORDER BY signed_at, agency
