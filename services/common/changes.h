// The change outbox (core.changes): written in the same transaction as each change, read back
// in commit-safe order. A reader only sees rows whose transaction is below the snapshot's xmin,
// so rows of transactions that commit late are delivered later, never skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/db.h"

namespace icr {

struct ChangeCursor {
  std::string txid = "0";  // xid8 as decimal text
  int64_t seq = 0;
};

std::string EncodeCursor(const ChangeCursor& c);
// The feed's order: by transaction id (as numbers, not text), then seq.
bool CursorBefore(const ChangeCursor& a, const ChangeCursor& b);
// Empty text is the start of the feed; anything malformed is INVALID_ARGUMENT.
absl::StatusOr<ChangeCursor> DecodeCursor(const std::string& text);

struct ChangeRow {
  ChangeCursor cursor;
  int64_t committed_at_us = 0;  // microseconds since the epoch
  std::string entity;
  std::string entity_id;
  std::string person_id;
  std::string change_type;
  std::string org_code;
  int64_t lag_ms = 0;
};

// A change to append to the outbox (the record service writes a batch of them at once).
struct NewChange {
  std::string entity;
  std::string entity_id;
  std::string person_id;  // empty: about no one person
  std::string change_type;
  std::string org_code;
};

class Changes {
 public:
  static void Append(pqxx::transaction_base& tx, const std::string& entity,
                     const std::string& entity_id, const std::string& person_id,
                     const std::string& change_type, const std::string& org_code);
  // Up to `limit` committed changes after `after`, in (txid, seq) order. When `visible_to_org`
  // is set, only changes about people that organisation may see.
  static std::vector<ChangeRow> Read(pqxx::transaction_base& tx, const ChangeCursor& after,
                                     int limit, const std::optional<std::string>& visible_to_org);
};

}  // namespace icr
