-- Nothing: undoes what was done since the savepoint.
ROLLBACK TO SAVEPOINT icr_part
