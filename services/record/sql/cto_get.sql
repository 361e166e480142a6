-- Why a CTO end was not written, read only then: for the CTO $2 of organisation $1 and person
-- $3 (no row: there is none), whether it has ended already, and whether end date $4 is before it
-- started. Locks the row.
SELECT end_date IS NOT NULL, $4::date < start_date
FROM core.community_treatment_order
WHERE source_org = $1 AND cto_id = $2 AND person_id = $3::uuid
FOR UPDATE
