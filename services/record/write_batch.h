// The writes of one transaction: a RecordEvents or UpsertPerson call, or a batch of an import.
// Each person is looked up once, the event ids already stored are found in one query, and the
// event log, change outbox, relationship and audit rows are written at the end in one statement
// each, instead of several round trips per event.
#pragma once

#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/access.h"
#include "services/common/auth.h"
#include "services/record/store.h"

namespace icr::record {

class WriteBatch {
 public:
  WriteBatch(const Caller& caller, std::string action)
      : caller_(caller), action_(std::move(action)) {}

  // Looks up in one query which of these events were stored before, and in another their people
  // and those in `upserted` (NHS numbers of people this batch sends) with the facts of the
  // access rule. Optional: Event and Person look up anything not prefetched on their own.
  void Prefetch(pqxx::transaction_base& tx, const std::vector<const icr::v1::Event*>& events,
                const std::set<std::string>& upserted = {});

  // Stores one validated event for its person, under the write rule (access::DecideWrite): a
  // person who does not exist and one the caller may not write about are both NOT_FOUND, the
  // refusal kept to be audited (Finish, or WriteRefusals when the call is refused as a whole).
  absl::StatusOr<EventResult> Event(pqxx::transaction_base& tx, const icr::v1::Event& event,
                                    const std::string& field);
  // Creates or updates a validated person (RecordStore::UpsertPerson), under the write rule:
  // creating needs a creating role, changing demographics a care relationship, and an existing
  // person the caller may not see (or, with expected_version, one who does not exist) is
  // NOT_FOUND. create_only (FHIR conditional create): a stored person is returned as stored,
  // unchanged, when the caller may see them (the write rule of a write that changes nothing).
  // residence_from: when a change of address took effect (RecordStore::UpsertPerson).
  absl::StatusOr<UpsertResult> Person(pqxx::transaction_base& tx, const icr::v1::Person& person,
                                      int64_t expected_version, bool create_only = false,
                                      const std::optional<Date>& residence_from = {});

  // Writes the item's deferred episode-table rows now (ImportEvents' savepoint per item, so a
  // refusal belongs to its item).
  absl::Status Flush(pqxx::transaction_base& tx);

  // After an item that may be rolled back alone (ImportEvents' savepoints): Keep() when its
  // writes stay, Discard() when they were rolled back.
  void Keep();
  void Discard();

  // Writes the deferred rows, the pending event-log and change rows, the relationship (the caller's
  // organisation recorded something for them) and one audit row for every person of the kept items.
  // Call once, last, in the same transaction. ALREADY_EXISTS when a deferred row was recorded
  // before; ABORTED when a concurrent call stored the same event.
  absl::Status Finish(pqxx::transaction_base& tx);

  // Writes the audit rows of the refusals alone: for a call refused as a whole, whose writes
  // were rolled back.
  void WriteRefusals(pqxx::transaction_base& tx) const;
  bool Refused() const { return !refusals_.empty(); }
  // After Finish: the feed position of the last change written (none when nothing changed).
  const std::optional<ChangeCursor>& LastChange() const { return last_change_; }

 private:
  const Caller& caller_;
  std::string action_;
  // By NHS number, as stored in this transaction (prefetched ones without local identifiers).
  std::map<std::string, icr::v1::Person> people_;
  std::set<std::string> looked_up_;  // event ids whose stored hash is in known_
  KnownEvents known_;                // stored events, and those stored here
  PendingWrites pending_;
  // The current item: its people, its stored event ids, and where its pending rows begin.
  std::vector<std::string> item_people_;
  std::vector<std::string> item_events_;
  size_t item_pending_events_ = 0, item_pending_changes_ = 0;
  std::set<std::string> kept_;  // person ids of kept items

  // The write rule's facts by NHS number, as this transaction's writes leave them; the current
  // item's changes to them, to undo when it is rolled back.
  access::Facts& FactsFor(pqxx::transaction_base& tx, const std::string& nhs);
  // Looks up these people and their facts (none: they are not in the store) in one query.
  void LookUp(pqxx::transaction_base& tx, const std::vector<std::string>& nhs_numbers);
  void SetFacts(const std::string& nhs, const access::Facts& facts);
  // Keeps a refusal to audit; returns its status.
  absl::Status Refuse(const std::string& person_id, const access::Decision& decision);
  std::map<std::string, access::Facts> facts_;
  std::map<std::string, std::string> person_ids_;  // by NHS number, for the refusals' audit
  std::vector<std::pair<std::string, std::optional<access::Facts>>> item_facts_undo_;
  std::set<std::string> item_registered_, registered_;  // people created (by id)
  std::set<std::string> item_opened_, opened_;  // people an event opened a relationship with

  std::vector<std::pair<std::string, access::Decision>> refusals_;
  std::optional<ChangeCursor> last_change_;
};

}  // namespace icr::record
