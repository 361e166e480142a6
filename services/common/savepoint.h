// A savepoint inside a transaction, so that one part of it (an import item, a feed change) can
// be rolled back alone while the transaction goes on.
//
// libpqxx 6.4's subtransaction cannot serve: it sends its SAVEPOINT only before a statement run
// with exec(), never exec_prepared(), so with prepared statements no savepoint is set, its
// abort() rolls nothing back, and after a failed statement the whole transaction is lost
// (SQLSTATE 25P02).
#pragma once

#include <pqxx/pqxx>
#include <vector>

#include "services/common/db.h"

namespace icr {

class Savepoint {
 public:

  explicit Savepoint(pqxx::transaction_base& tx);
  // Keeps what was done since the savepoint.
  void Release();
  // Undoes what was done since the savepoint, even after a failed statement.
  void Rollback();

 private:
  pqxx::transaction_base& tx_;
};

}  // namespace icr
