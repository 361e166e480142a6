-- The reasons an S117 duty may end: code, whether it may be given as the primary reason.
SELECT code, allowed_as_primary
FROM s117.end_reason
