-- Why a discharge was not written, read only then: for the spell $2 of organisation $1 and
-- person $3 (no row: there is none), whether it is discharged already, and whether discharge
-- time $4 (seconds since the epoch) is before the admission. Locks the row.
SELECT discharged_at IS NOT NULL, $4::bigint < (extract(epoch FROM admitted_at))::bigint
FROM core.hospital_spell
WHERE source_org = $1 AND spell_id = $2 AND person_id = $3::uuid
FOR UPDATE
