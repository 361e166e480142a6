-- Every succession link: predecessor, successor, effective date, by predecessor and successor.
SELECT predecessor_code, successor_code, effective_on::text
FROM core.organisation_successor
ORDER BY predecessor_code, successor_code
