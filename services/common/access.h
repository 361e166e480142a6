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

// The start of a single-statement audited read (Access::ReadOnce): resolves the person with NHS
// number $1 for organisation $2 and writes the audit row (role $3, action $4, purpose $5,
// request id $6, break-glass reason $7; outcome denied when $2 may not see them and $7 is
// empty), in the statement's own transaction. The statement continues with a SELECT over
// `target (person_id, visible)` returning (visible, payload). The same rule as ResolvePerson,
// without a round trip between the check, the read and the audit.
#define ICR_AUDITED_PERSON                                                                \
  "WITH target AS (SELECT person_id, core.can_see(person_id, $2) AS visible "             \
  "  FROM core.person WHERE nhs_number = $1), "                                           \
  "audit AS (INSERT INTO core.audit (org_code, role, person_id, action, purpose_of_use, " \
  "  request_id, outcome, break_glass_reason) SELECT $2, $3, person_id, $4, $5, $6, "     \
  "  CASE WHEN visible OR $7 <> '' THEN 'ok' ELSE 'denied' END, $7 FROM target) "

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

  static bool CanSee(pqxx::transaction_base& tx, const std::string& person_id,
                     const std::string& org_code);

  // One read of a person's data in one transaction: resolves the person (ResolvePerson), runs
  // read, and writes the audit row of `action`. A refused attempt is audited and committed, and
  // the call returns NOT_FOUND.
  static absl::Status ReadPerson(
      Database& db, const Caller& caller, const std::string& nhs_number, const std::string& action,
      const std::function<absl::Status(pqxx::work&, const PersonRef&)>& read);

  // Runs a prepared statement built on ICR_AUDITED_PERSON (one statement: visibility, audit and
  // read) and returns its payload. NOT_FOUND as ResolvePerson. Run it outside a transaction
  // (Database::Read): the statement is its own.
  struct Payload {
    std::string text;
    bool break_glass = false;  // seen only because the caller broke glass
  };
  static absl::StatusOr<Payload> ReadOnce(pqxx::transaction_base& tx, const char* statement,
                                          const Caller& caller, const std::string& nhs_number,
                                          const std::string& action);
};

}  // namespace icr
