-- S117 candidates: of the detentions $2 (ids) with legal status codes $3 of people $1 (NHS
-- numbers) a load recorded, those of people the S117 register holds no episode for.
SELECT d.id, d.code, p.person_id::text
FROM unnest($1::text[], $2::text[], $3::text[]) AS d(nhs, id, code)
JOIN core.person p ON p.nhs_number = d.nhs
WHERE NOT EXISTS (SELECT 1 FROM s117.episode e WHERE e.person_id = p.person_id)
ORDER BY d.id
