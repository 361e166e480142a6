-- Merge $1 undone, by organisation $2 for reason $3.
UPDATE core.person_merge SET unmerged_at = now(), unmerged_by_org = $2, unmerge_reason = $3
WHERE merge_id = $1::uuid
