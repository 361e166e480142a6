-- Keeps the body $3 of person $1's integrated record read at version $2 (integrated.sql).
-- A concurrent fill may win; either body carries the version it was read with, so a stale one is
-- never used. Returns nothing.
INSERT INTO core.record_body (person_id, version, body)
VALUES ($1::uuid, $2, $3::bytea)
ON CONFLICT (person_id) DO UPDATE
SET version = EXCLUDED.version, body = EXCLUDED.body
