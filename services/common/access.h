// Access: the access rule (access_rule.h) applied to calls and to the store. Authenticates and
// admits a call by the policy table, reads the facts of core.relationship for the rule, and
// keeps "refuse, audit, commit, NOT_FOUND" in one place.
#pragma once

#include <functional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/access_rule.h"
#include "services/common/auth.h"
#include "services/common/db.h"

namespace icr {

struct PersonRef {
  std::string person_id;
  bool break_glass = false;  // seen only because the caller broke glass
};

class Access {
 public:

  // Authentication, then the policy table's role check for `method` (e.g.
  // "icr.v1.RecordService.UpsertPerson"), before any validation of the request.
  static absl::StatusOr<Caller> Admit(Authenticator& auth, const grpc::ServerContextBase& ctx,
                                      std::string_view method);
  // The same for a call over another protocol (the FHIR HTTP server), from its headers.
  static absl::StatusOr<Caller> Admit(Authenticator& auth, const Authenticator::HeaderOf& header,
                                      const Authenticator::PeerOf& peer, std::string_view method);

  // The facts of the rule (sees, care: core.relationship_facts) from two columns of a row,
  // from `first` on; the person exists.
  static access::Facts ReadFacts(const pqxx::row& row, int first);

  // Writes the audit row of a decision about a person (person_id empty: no such person).
  static void AuditDecision(pqxx::transaction_base& tx, const Caller& caller,
                            const std::string& person_id, const std::string& action,
                            const access::Decision& decision);

  // The person with this (normalised) NHS number, if the caller may read them (DecideRead). A
  // refusal is audited (denied, or not found) and returned as NOT_FOUND; the caller commits.
  static absl::StatusOr<PersonRef> ResolvePerson(pqxx::transaction_base& tx, const Caller& caller,
                                                 const std::string& nhs_number,
                                                 const std::string& action,
                                                 bool break_glass_applies = true);

  // The same for a write about an existing person (DecideWrite): break glass never applies.
  // placing_council: the caller is the placing council of the placement written (kPlacement).
  static absl::StatusOr<PersonRef> ResolvePersonForWrite(
      pqxx::transaction_base& tx, const Caller& caller, const std::string& nhs_number,
      const std::string& action, access::Write write, bool placing_council = false);

  static bool CanSee(pqxx::transaction_base& tx, const std::string& person_id,
                     const std::string& org_code);

  // The facts of the rule for an organisation in `scope` and an entitlement of person_id
  // (access::EntitlementFacts); its relationship with the person is read only when the scope
  // needs it.
  static access::Facts EntitlementFacts(pqxx::transaction_base& tx,
                                        const access::RegisterScope& scope,
                                        const std::string& person_id, const std::string& council,
                                        const std::string& icb);

  // Runs fn in one transaction. A refusal fn reports in `refused` is returned after the commit,
  // so the audit row of a refused attempt is kept; an error fn returns rolls everything back.
  static absl::Status InTransaction(
      Database& db, const std::function<absl::Status(pqxx::work&, absl::Status&)>& fn);

  // One read of a person's data in one transaction: resolves the person (ResolvePerson), runs
  // read, and writes the audit row of `action`.
  static absl::Status ReadPerson(
      Database& db, const Caller& caller, const std::string& nhs_number, const std::string& action,
      const std::function<absl::Status(pqxx::work&, const PersonRef&)>& read);
};

}  // namespace icr
