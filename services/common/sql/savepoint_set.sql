-- Nothing: sets a savepoint in the transaction.
-- next is set, so one name serves.
SAVEPOINT icr_part
