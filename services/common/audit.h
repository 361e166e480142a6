// The audit writer: one append-only row for every read or write of person-level data, written
// in the same transaction as the work it records.
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "services/common/auth.h"
#include "services/common/db.h"

namespace icr {

// Outcomes recorded in core.audit.outcome.
inline constexpr char kAuditOk[] = "ok";
inline constexpr char kAuditDenied[] = "denied";

class Audit {
 public:
  // person_id may be empty for a call about no one person (e.g. a search with no results).
  static void Write(pqxx::transaction_base& tx, const Caller& caller, const std::string& person_id,
                    const std::string& action, const std::string& outcome);
  // One row per person, in one statement: a call that wrote for many people (an import batch).
  static void WriteMany(pqxx::transaction_base& tx, const Caller& caller,
                        const std::vector<std::string>& person_ids, const std::string& action,
                        const std::string& outcome);
};

}  // namespace icr
