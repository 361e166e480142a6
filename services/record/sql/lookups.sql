-- GetIntegratedRecord's look-ups, several callers' in one statement (core.lookup_records,
-- migrations 0013 and 0016): per request found, its position (from 1), the person's id, whether
-- the caller may see them, whether the version the server holds a body for is current, the
-- record's version, and the body kept in the store when it is still valid (else null). The
-- arrays: NHS numbers $1, organisations $2, roles $3, purposes $4, request ids $5, break-glass
-- reasons $6, seen versions $7, seen visibility $8 ('t', 'f' or '').
SELECT ord, person_id::text, visible, fresh, version, body
FROM core.lookup_records($1, $2, $3, $4, $5, $6, $7, $8)
