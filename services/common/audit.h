// The audit writer: one append-only row for every read or write of person-level data, written
// in the same transaction as the work it records (Audit), or for a single-statement read,
// committed with the rows of concurrent reads before the data is returned (AuditQueue).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/status.h"

#include "services/common/auth.h"
#include "services/common/db.h"

namespace icr {

// Outcomes recorded in core.audit.outcome.
inline constexpr char kAuditOk[] = "ok";
inline constexpr char kAuditDenied[] = "denied";

class Audit {
 public:
  static const std::vector<Statement>& Statements();
  // person_id may be empty for a call about no one person (e.g. a search with no results).
  static void Write(pqxx::transaction_base& tx, const Caller& caller, const std::string& person_id,
                    const std::string& action, const std::string& outcome);
  // One row per person, in one statement: a call that wrote for many people (an import batch).
  static void WriteMany(pqxx::transaction_base& tx, const Caller& caller,
                        const std::vector<std::string>& person_ids, const std::string& action,
                        const std::string& outcome);
};

// Group commit of the audit rows of reads. A read that needs no transaction of its own (the
// record is read by one statement) hands its audit row here; rows of concurrent calls are
// written together in one statement, and Write returns only when the caller's row is committed,
// so no data leaves the service unless its audit row is durable. The calling thread that finds
// no write in progress writes everything queued (no extra thread, so a lone caller waits for
// one insert). Never call Write while holding a pooled connection: the write takes one.
class AuditQueue {
 public:
  explicit AuditQueue(Database& db);
  static const std::vector<Statement>& Statements();
  // OK once the row is committed; the database's error otherwise (the caller must not return
  // the data it read).
  absl::Status Write(const Caller& caller, const std::string& person_id, const std::string& action,
                     const std::string& outcome);

 private:
  struct Row {
    std::string org, role, person, action, purpose, request, outcome, reason;
  };
  struct Slot {
    bool done = false;
    absl::Status status;
  };
  absl::Status Insert(const std::vector<Row>& rows);

  Database& db_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool writing_ = false;
  std::vector<Row> rows_;
  std::vector<std::shared_ptr<Slot>> slots_;
};

}  // namespace icr
