-- The new statement_timeout ($1, milliseconds) of this session.
SELECT set_config('statement_timeout', $1, false)
