-- Every current organisation: code, kind, name, ICB ('' for none).
SELECT code, kind, name, coalesce(icb_code, '')
FROM core.organisation
WHERE valid_to IS NULL OR valid_to >= current_date
