-- Why a detention end was not written, read only then: for the detention $2 of organisation $1
-- and person $3 (no row: there is none), whether it has ended already, and whether end time $4
-- (seconds since the epoch) is before it started. Locks the row.
SELECT ended_at IS NOT NULL, $4::bigint < (extract(epoch FROM started_at))::bigint
FROM core.detention
WHERE source_org = $1 AND detention_id = $2 AND person_id = $3::uuid
FOR UPDATE
