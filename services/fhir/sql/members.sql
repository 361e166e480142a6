-- Person ids of a page of an export: the people organisation $1 currently has a relationship
-- with, of kinds $2 (NULL: any), whose record changed after $3 (NULL: all), with ids after $4,
-- at most $5, in id order (keyset paging).
SELECT r.person_id::text
FROM core.relationship r
WHERE r.org_code = $1 AND r.to_at IS NULL
  AND ($2::text[] IS NULL OR r.kind = ANY ($2::text[]))
  AND r.person_id > $4::uuid
  AND ($3::timestamptz IS NULL
       OR EXISTS (SELECT 1 FROM core.record_stamp s
                  WHERE s.person_id = r.person_id AND s.stamped_at > $3::timestamptz))
GROUP BY r.person_id
ORDER BY r.person_id
LIMIT $5
