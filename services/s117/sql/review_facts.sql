-- Episode $1's reviews: date, outcome, joint (both bodies attended).
SELECT review_date::text, outcome, joint
FROM s117.review
WHERE episode_id = $1::uuid
