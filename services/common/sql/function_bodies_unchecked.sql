-- Nothing: lets this transaction define functions in any order (a body naming a function defined
-- by a later file is checked when called, as pg_dump's output is).
SET LOCAL check_function_bodies = off
