-- The person that person p_person is now part of after merges (core.person_merge, not
-- unmerged), following a survivor merged again; NULL for a person not merged away.
CREATE OR REPLACE FUNCTION core.survivor_of(p_person uuid) RETURNS uuid
LANGUAGE sql STABLE AS $$
  WITH RECURSIVE chain (person_id, depth) AS (
    SELECT p_person, 0
    UNION ALL
    SELECT m.survivor_id, c.depth + 1
    FROM chain c JOIN core.person_merge m
      ON m.superseded_id = c.person_id AND m.unmerged_at IS NULL
    WHERE c.depth < 32
  )
  SELECT person_id FROM chain WHERE depth > 0 ORDER BY depth DESC LIMIT 1
$$;
