// The writes of one transaction: a RecordEvents or UpsertPerson call, or a batch of an import.
// Each person is looked up once, and the relationship and audit rows are written once per person
// at the end, in one statement each, instead of once per event.
#pragma once

#include <map>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/auth.h"
#include "services/record/store.h"

namespace icr::record {

class WriteBatch {
 public:
  WriteBatch(const Caller& caller, std::string action)
      : caller_(caller), action_(std::move(action)) {}

  // Stores one validated event for its person, who must exist (NOT_FOUND otherwise).
  absl::StatusOr<EventResult> Event(pqxx::transaction_base& tx, const icr::v1::Event& event,
                                    const std::string& field);
  // Creates or updates a validated person (RecordStore::UpsertPerson).
  absl::StatusOr<UpsertResult> Person(pqxx::transaction_base& tx, const icr::v1::Person& person,
                                      int64_t expected_version);

  // After an item that may be rolled back alone (ImportEvents' savepoints): Keep() when its
  // writes stay, Discard() when they were rolled back.
  void Keep();
  void Discard();

  // Writes the relationship (the caller's organisation recorded something for them) and one
  // audit row for every person of the kept items. Call once, last, in the same transaction.
  void Finish(pqxx::transaction_base& tx);

 private:
  const Caller& caller_;
  std::string action_;
  std::map<std::string, icr::v1::Person> people_;  // by NHS number, as stored in this transaction
  std::vector<std::string> item_;                  // person ids of the current item
  std::set<std::string> kept_;                     // person ids of kept items
};

}  // namespace icr::record
