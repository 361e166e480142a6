-- The person that person $1 is now part of after merges (core.survivor_of); NULL for a person
-- not merged away.
SELECT core.survivor_of($1::uuid)::text
