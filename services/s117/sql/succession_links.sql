-- Every succession link with the predecessor's kind (council, icb, trust, ...): what
-- ApplySuccessions acts on; which are due by a date is the pure rule's (DueSuccessions).
SELECT s.predecessor_code, s.successor_code, s.effective_on::text, o.kind
FROM core.organisation_successor s
JOIN core.organisation o ON o.code = s.predecessor_code
ORDER BY s.effective_on, s.predecessor_code, s.successor_code
