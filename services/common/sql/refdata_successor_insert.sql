-- One succession link; no row returned when it is already there.
INSERT INTO core.organisation_successor (predecessor_code, successor_code, effective_on, reason)
VALUES ($1, $2, $3::date, $4)
ON CONFLICT DO NOTHING
RETURNING predecessor_code
