#include "services/common/audit.h"

namespace icr {
namespace {
const Statement kAuditInsert{
    "audit_insert",
    "INSERT INTO core.audit (org_code, role, person_id, action, purpose_of_use, request_id, "
    "outcome, break_glass_reason) VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8)"};
const Statement kAuditInsertMany{
    "audit_insert_many",
    "INSERT INTO core.audit (org_code, role, person_id, action, purpose_of_use, request_id, "
    "outcome, break_glass_reason) SELECT $1, $2, p, $4, $5, $6, $7, $8 "
    "FROM unnest($3::uuid[]) AS p"};
}  // namespace

const std::vector<Statement>& Audit::Statements() {
  static const std::vector<Statement> kStatements = {kAuditInsert, kAuditInsertMany};
  return kStatements;
}

void Audit::Write(pqxx::transaction_base& tx, const Caller& caller, const std::string& person_id,
                  const std::string& action, const std::string& outcome) {
  const char* person = person_id.empty() ? nullptr : person_id.c_str();
  tx.exec_prepared(kAuditInsert.name, caller.org_code, RoleName(caller.role), person, action,
                   caller.purpose_of_use, caller.request_id, outcome, caller.break_glass_reason);
}

void Audit::WriteMany(pqxx::transaction_base& tx, const Caller& caller,
                      const std::vector<std::string>& person_ids, const std::string& action,
                      const std::string& outcome) {
  if (person_ids.empty()) return;
  tx.exec_prepared(kAuditInsertMany.name, caller.org_code, RoleName(caller.role),
                   PgTextArray(person_ids), action, caller.purpose_of_use, caller.request_id,
                   outcome, caller.break_glass_reason);
}
}  // namespace icr
