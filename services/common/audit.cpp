#include "services/common/audit.h"
#include "services/common/sql/statements.h"

namespace icr {
namespace {
}  // namespace

void Audit::Write(pqxx::transaction_base& tx, const Caller& caller, const std::string& person_id,
                  const std::string& action, const std::string& outcome) {
  const char* person = person_id.empty() ? nullptr : person_id.c_str();
  Exec(tx, common::sql::kAuditInsert, caller.org_code, RoleName(caller.role), person, action,
                   caller.purpose_of_use, caller.request_id, outcome, caller.break_glass_reason);
}

void Audit::WriteMany(pqxx::transaction_base& tx, const Caller& caller,
                      const std::vector<std::string>& person_ids, const std::string& action,
                      const std::string& outcome) {
  if (person_ids.empty()) return;
  Exec(tx, common::sql::kAuditInsertMany, caller.org_code, RoleName(caller.role),
                   PgTextArray(person_ids), action, caller.purpose_of_use, caller.request_id,
                   outcome, caller.break_glass_reason);
}
}  // namespace icr
