-- The succession links effective on or before $1, with the predecessor's kind (council, icb,
-- trust, ...): what ApplySuccessions acts on (services/s117/succession.h).
SELECT s.predecessor_code, s.successor_code, s.effective_on::text, o.kind
FROM core.organisation_successor s
JOIN core.organisation o ON o.code = s.predecessor_code
WHERE s.effective_on <= $1::date
ORDER BY s.effective_on, s.predecessor_code, s.successor_code
