#include "services/common/savepoint.h"

namespace icr {
namespace {
// Savepoints are not nested here: each is released or rolled back (and released) before the
// next is set, so one name serves.
const Statement kSet{"savepoint_set", "SAVEPOINT icr_part"};
const Statement kRelease{"savepoint_release", "RELEASE SAVEPOINT icr_part"};
const Statement kRollback{"savepoint_rollback", "ROLLBACK TO SAVEPOINT icr_part"};
}  // namespace

const std::vector<Statement>& Savepoint::Statements() {
  static const std::vector<Statement> kStatements = {kSet, kRelease, kRollback};
  return kStatements;
}

Savepoint::Savepoint(pqxx::transaction_base& tx) : tx_(tx) { tx_.exec_prepared(kSet.name); }

void Savepoint::Release() { tx_.exec_prepared(kRelease.name); }

void Savepoint::Rollback() {
  tx_.exec_prepared(kRollback.name);
  Release();  // ROLLBACK TO keeps the savepoint
}

}  // namespace icr
