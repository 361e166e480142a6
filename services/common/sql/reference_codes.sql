-- Every current code of every code list: list, code, description, group ('' for none).
SELECT list_name, code, description, coalesce(group_code, '')
FROM core.code_list
WHERE valid_to IS NULL OR valid_to >= current_date
