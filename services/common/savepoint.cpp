#include "services/common/savepoint.h"
#include "services/common/sql/statements.h"

namespace icr {
namespace {
}  // namespace

Savepoint::Savepoint(pqxx::transaction_base& tx) : tx_(tx) { Exec(tx_, common::sql::kSavepointSet); }

void Savepoint::Release() { Exec(tx_, common::sql::kSavepointRelease); }

void Savepoint::Rollback() {
  Exec(tx_, common::sql::kSavepointRollback);
  Release();  // ROLLBACK TO keeps the savepoint
}

}  // namespace icr
