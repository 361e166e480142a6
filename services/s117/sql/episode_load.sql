-- Episode $1 as JSON (its columns by name), locked for update.
SELECT to_jsonb(e)::text
FROM s117.episode e
WHERE e.episode_id = $1::uuid
FOR UPDATE
