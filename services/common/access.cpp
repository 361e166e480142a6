#include "services/common/access.h"

#include "services/common/audit.h"
#include "services/common/status.h"

namespace icr {
namespace {
const Statement kResolve{
    "access_resolve",
    "SELECT person_id::text, core.can_see(person_id, $2) FROM core.person WHERE nhs_number = $1"};
const Statement kCanSee{"access_can_see", "SELECT core.can_see($1::uuid, $2)"};
}  // namespace

const std::vector<Statement>& Access::Statements() {
  static const std::vector<Statement> kStatements = {kResolve, kCanSee};
  return kStatements;
}

absl::Status Access::RequirePersonLevel(const Caller& caller) {
  if (caller.role == Role::kPerformanceAnalyst) {
    return absl::PermissionDeniedError("performance_analyst sees aggregates only");
  }
  return absl::OkStatus();
}

absl::StatusOr<PersonRef> Access::ResolvePerson(pqxx::transaction_base& tx, const Caller& caller,
                                                const std::string& nhs_number,
                                                const std::string& action) {
  auto r = tx.exec_prepared(kResolve.name, nhs_number, caller.org_code);
  if (r.empty()) return absl::NotFoundError("nhs_number: no such person visible to you");
  auto ref = Decide(caller, r[0][0].c_str(), r[0][1].as<bool>());
  if (!ref.ok()) Audit::Write(tx, caller, r[0][0].c_str(), action, kAuditDenied);
  return ref;
}

absl::StatusOr<PersonRef> Access::Decide(const Caller& caller, std::string person_id,
                                         bool visible) {
  if (visible) return PersonRef{std::move(person_id), false};
  if (!caller.break_glass_reason.empty()) return PersonRef{std::move(person_id), true};
  return absl::NotFoundError("nhs_number: no such person visible to you");
}

bool Access::CanSee(pqxx::transaction_base& tx, const std::string& person_id,
                    const std::string& org_code) {
  return tx.exec_prepared1(kCanSee.name, person_id, org_code)[0].as<bool>();
}

absl::Status Access::ReadPerson(
    Database& db, const Caller& caller, const std::string& nhs_number, const std::string& action,
    const std::function<absl::Status(pqxx::work&, const PersonRef&)>& read) {
  absl::Status refused;
  absl::Status status = db.Write([&](pqxx::work& tx) -> absl::Status {
    auto ref = ResolvePerson(tx, caller, nhs_number, action);
    if (!ref.ok()) {
      refused = ref.status();
      return absl::OkStatus();  // commit the audit row of the refused attempt
    }
    RETURN_IF_ERROR(read(tx, *ref));
    Audit::Write(tx, caller, ref->person_id, action, kAuditOk);
    return absl::OkStatus();
  });
  return status.ok() ? refused : status;
}

}  // namespace icr
