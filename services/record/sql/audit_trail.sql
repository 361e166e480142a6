-- Up to $3 audit entries about person $1, newest first, with audit_pk below $2 (0: from the
-- newest): audit_pk, when (µs since the epoch), organisation, role, action, purpose of use,
-- request id, outcome, break-glass reason.
SELECT audit_pk, (extract(epoch FROM at) * 1000000)::bigint, org_code, role, action,
  purpose_of_use, request_id, outcome, break_glass_reason
FROM core.audit
WHERE person_id = $1::uuid AND ($2 = 0 OR audit_pk < $2)
ORDER BY audit_pk DESC
LIMIT $3
