-- The superseded person's row, once everything of theirs has moved (kept in core.person_merge).
DELETE FROM core.person WHERE person_id = $1::uuid
