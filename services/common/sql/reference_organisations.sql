-- Every organisation, open or closed (a closed one is refused from its close date, naming its
-- successor): code, kind, name, ICB ('' for none), opened_on, closed_on ('' while open).
SELECT code, kind, name, coalesce(icb_code, ''), opened_on::text, coalesce(closed_on::text, '')
FROM core.organisation
