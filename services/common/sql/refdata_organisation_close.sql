-- A predecessor closes on its successors' effective date; no row when already closed then.
UPDATE core.organisation
SET closed_on = $2::date
WHERE code = $1 AND closed_on IS NULL
RETURNING code
