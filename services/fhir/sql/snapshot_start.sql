-- The export snapshot's transaction time (RFC 3339 UTC, microseconds), and how many people a job
-- exports: those organisation $1 currently has a relationship with, of kinds $2 (NULL: any),
-- whose record changed after $3 (NULL: all).
SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
  (SELECT count(DISTINCT r.person_id)
   FROM core.relationship r
   WHERE r.org_code = $1 AND r.to_at IS NULL
     AND ($2::text[] IS NULL OR r.kind = ANY ($2::text[]))
     AND ($3::timestamptz IS NULL
          OR EXISTS (SELECT 1 FROM core.record_stamp s
                     WHERE s.person_id = r.person_id AND s.stamped_at > $3::timestamptz)))
