#include "services/common/access.h"
#include "services/common/sql/statements.h"

#include "services/common/audit.h"
#include "services/common/status.h"

namespace icr {
namespace {
}  // namespace

absl::StatusOr<Caller> Access::Admit(Authenticator& auth, const grpc::ServerContextBase& ctx,
                                     std::string_view method) {
  auto caller = auth.Authenticate(ctx);
  if (!caller.ok()) return caller.status();
  RETURN_IF_ERROR(access::Admit(*caller, method));
  return caller;
}

absl::StatusOr<Caller> Access::Admit(Authenticator& auth, const Authenticator::HeaderOf& header,
                                     const Authenticator::PeerOf& peer, std::string_view method) {
  auto caller = auth.Authenticate(header, peer);
  if (!caller.ok()) return caller.status();
  RETURN_IF_ERROR(access::Admit(*caller, method));
  return caller;
}

access::Facts Access::ReadFacts(const pqxx::row& row, int first) {
  access::Facts f;
  f.exists = true;
  f.sees = row[first].as<bool>();
  f.care = row[first + 1].as<bool>();
  return f;
}

void Access::AuditDecision(pqxx::transaction_base& tx, const Caller& caller,
                           const std::string& person_id, const std::string& action,
                           const access::Decision& decision) {
  Audit::Write(tx, caller, person_id, action, std::string(decision.audit));
}

namespace {
absl::StatusOr<PersonRef> Resolve(
    pqxx::transaction_base& tx, const Caller& caller, const std::string& nhs_number,
    const std::string& action,
    const std::function<access::Decision(const access::Facts&)>& decide) {
  auto r = Exec(tx, common::sql::kAccessFactsByNhs, nhs_number, caller.org_code);
  const std::string person_id = r.empty() ? "" : r[0][0].c_str();
  const access::Decision d = decide(r.empty() ? access::Facts{} : Access::ReadFacts(r[0], 1));
  if (!d.ok()) {
    Access::AuditDecision(tx, caller, person_id, action, d);
    return d.status;
  }
  return PersonRef{person_id, d.break_glass};
}
}  // namespace

absl::StatusOr<PersonRef> Access::ResolvePerson(pqxx::transaction_base& tx, const Caller& caller,
                                                const std::string& nhs_number,
                                                const std::string& action,
                                                bool break_glass_applies) {
  return Resolve(tx, caller, nhs_number, action, [&](const access::Facts& f) {
    return access::DecideRead(caller, f, break_glass_applies, "nhs_number");
  });
}

absl::StatusOr<PersonRef> Access::ResolvePersonForWrite(pqxx::transaction_base& tx,
                                                        const Caller& caller,
                                                        const std::string& nhs_number,
                                                        const std::string& action,
                                                        access::Write write, bool placing_council) {
  return Resolve(tx, caller, nhs_number, action, [&](access::Facts f) {
    f.placing_council = placing_council;
    return access::DecideWrite(caller, write, f, "nhs_number");
  });
}

bool Access::CanSee(pqxx::transaction_base& tx, const std::string& person_id,
                    const std::string& org_code) {
  return Exec(tx, common::sql::kAccessCanSee, person_id, org_code)[0][0].as<bool>();
}

access::Facts Access::EntitlementFacts(pqxx::transaction_base& tx,
                                       const access::RegisterScope& scope,
                                       const std::string& person_id, const std::string& council,
                                       const std::string& icb) {
  const bool related =
      scope.by == access::RegisterScope::By::kRelationship && CanSee(tx, person_id, scope.org_code);
  return access::EntitlementFacts(scope, council, icb, related);
}

absl::Status Access::InTransaction(
    Database& db, const std::function<absl::Status(pqxx::work&, absl::Status&)>& fn) {
  absl::Status refused;
  absl::Status s = db.Write([&](pqxx::work& tx) { return fn(tx, refused); });
  return s.ok() ? refused : s;
}

absl::Status Access::ReadPerson(
    Database& db, const Caller& caller, const std::string& nhs_number, const std::string& action,
    const std::function<absl::Status(pqxx::work&, const PersonRef&)>& read) {
  return InTransaction(db, [&](pqxx::work& tx, absl::Status& refused) -> absl::Status {
    auto ref = ResolvePerson(tx, caller, nhs_number, action);
    if (!ref.ok()) {
      refused = ref.status();
      return absl::OkStatus();  // commit the audit row of the refused attempt
    }
    RETURN_IF_ERROR(read(tx, *ref));
    Audit::Write(tx, caller, ref->person_id, action, kAuditOk);
    return absl::OkStatus();
  });
}

}  // namespace icr
