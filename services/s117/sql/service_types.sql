-- The aftercare service types: code, whether it is accommodation.
SELECT code, is_accommodation
FROM s117.service_type
