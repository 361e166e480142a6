#include "services/s117/reconcile.h"

#include <set>
#include <string>

#include "services/common/audit.h"
#include "services/common/money.h"
#include "services/common/status.h"
#include "services/common/validation.h"
#include "services/s117/sql/statements.h"

namespace icr::s117 {

absl::StatusOr<std::vector<icr::v1::ReconciliationFinding>> Reconcile(
    Database& db, const Caller& caller, const access::RegisterScope& scope,
    const icr::v1::ReconcileRegisterRequest& req) {
  ASSIGN_OR_RETURN(const std::optional<Date> as_of, OptionalDate(req.as_of(), "as_of"));
  if (scope.by == access::RegisterScope::By::kRelationship) {
    return RefusedField("organisation", caller.org_code +
                                            " is not a council or an ICB: the register is "
                                            "reconciled by its responsible bodies");
  }
  const std::string day = FormatDate(as_of.value_or(Today()));
  const std::string mode(scope.mode());
  std::vector<icr::v1::ReconciliationFinding> findings;
  RETURN_IF_ERROR(db.Write([&](pqxx::work& tx) -> absl::Status {
    findings.clear();
    std::set<std::string> people;
    auto add = [&](const char* kind, const pqxx::row& r, std::string detail) {
      people.insert(r[0].c_str());
      auto& f = findings.emplace_back();
      f.set_kind(kind);
      f.set_nhs_number(r[1].c_str());
      f.set_entitlement_id(r[2].c_str());
      f.set_detail(std::move(detail));
    };
    for (const auto& r : Exec(tx, sql::kReconcileDischarged, mode, scope.org_code, day)) {
      add(kDischargedWithoutEntitlement, r, r[3].c_str());
    }
    for (const auto& r : Exec(tx, sql::kReconcileNoDetention, mode, scope.org_code, day)) {
      add(kEntitlementWithoutDetention, r, r[3].c_str());
    }
    for (const auto& r : Exec(tx, sql::kReconcileTwoOpen, mode, scope.org_code, day)) {
      add(kTwoOpenEntitlements, r, r[3].c_str());
    }
    for (const auto& r : Exec(tx, sql::kReconcileCharged, mode, scope.org_code, day)) {
      add(kChargedWhileEntitled, r, r[3].c_str() + FormatPounds(r[4].as<int64_t>()) + r[5].c_str());
    }
    Audit::WriteMany(tx, caller, {people.begin(), people.end()}, "ReconcileRegister",
                     std::string(access::kAuditOk));
    return absl::OkStatus();
  }));
  return findings;
}

}  // namespace icr::s117
