-- Nothing: keeps what was done since the savepoint.
RELEASE SAVEPOINT icr_part
