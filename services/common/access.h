// Who may see whom: role checks for person-level calls and resolution of an NHS number to a
// person the caller has a legitimate relationship with (architecture.md, Security).
#pragma once

#include <functional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/auth.h"
#include "services/common/db.h"

namespace icr {

struct PersonRef {
  std::string person_id;
  bool break_glass = false;  // seen only because the caller broke glass
};

class Access {
 public:
  static const std::vector<Statement>& Statements();

  // PERMISSION_DENIED for roles that see aggregates only.
  static absl::Status RequirePersonLevel(const Caller& caller);

  // The person with this (normalised) NHS number, if the caller may see them. Unknown and not
  // visible are both NOT_FOUND, so existence is not leaked; a refused attempt on a person who
  // exists is audited as denied. With x-break-glass-reason the caller sees them, audited.
  static absl::StatusOr<PersonRef> ResolvePerson(pqxx::transaction_base& tx, const Caller& caller,
                                                 const std::string& nhs_number,
                                                 const std::string& action);

  // The rule of ResolvePerson on a person already looked up with core.can_see: the reference,
  // or NOT_FOUND (the caller audits the refusal as denied).
  static absl::StatusOr<PersonRef> Decide(const Caller& caller, std::string person_id,
                                          bool visible);

  static bool CanSee(pqxx::transaction_base& tx, const std::string& person_id,
                     const std::string& org_code);

  // One read of a person's data in one transaction: resolves the person (ResolvePerson), runs
  // read, and writes the audit row of `action`. A refused attempt is audited and committed, and
  // the call returns NOT_FOUND.
  static absl::Status ReadPerson(
      Database& db, const Caller& caller, const std::string& nhs_number, const std::string& action,
      const std::function<absl::Status(pqxx::work&, const PersonRef&)>& read);

};

}  // namespace icr
