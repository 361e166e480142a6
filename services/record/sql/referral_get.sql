-- Why a referral close was not written, read only then: for the referral $2 of organisation $1
-- and person $3 (no row: there is none), whether it is closed already, and whether closing date
-- $4 is before it was received. Locks the row.
SELECT closed_date IS NOT NULL, $4::date < received_date
FROM core.referral
WHERE source_org = $1 AND referral_id = $2 AND person_id = $3::uuid
FOR UPDATE
