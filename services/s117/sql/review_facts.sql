-- Episode $1's reviews: date, outcome.
SELECT review_date::text, outcome
FROM s117.review
WHERE episode_id = $1::uuid
