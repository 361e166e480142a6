-- The entitlement an import row is already registered as, if any: by council $1 and source
-- reference $2 when $2 is given, else the person with NHS number $3's entitlement (not VOID)
-- whose detention started on $4 under qualifying section $5. Returns its id, its import digest
-- ('' for none) and person_id.
SELECT e.episode_id::text, coalesce(e.import_digest, ''), e.person_id::text
FROM s117.episode e
JOIN core.person p USING (person_id)
WHERE CASE WHEN $2 <> '' THEN e.responsible_council_code = $1 AND e.source_ref = $2
           ELSE p.nhs_number = $3 AND e.detention_start_date = $4::date
                AND e.qualifying_section = $5 AND e.state <> 'VOID' END
ORDER BY e.created_at DESC
LIMIT 1
