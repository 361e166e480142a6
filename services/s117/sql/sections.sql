-- The qualifying MHA legal status codes: legal status code, the section it is recorded as.
SELECT legal_status_code, section
FROM s117.qualifying_section
