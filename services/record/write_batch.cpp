#include "services/record/write_batch.h"

#include "services/common/audit.h"

namespace icr::record {

void WriteBatch::Prefetch(pqxx::transaction_base& tx,
                          const std::vector<const icr::v1::Event*>& events,
                          const std::set<std::string>& upserted) {
  std::vector<std::string> ids, nhs_numbers;
  for (const auto* e : events) {
    if (looked_up_.insert(e->event_id()).second) ids.push_back(e->event_id());
    if (!people_.count(e->nhs_number()) && !upserted.count(e->nhs_number())) {
      nhs_numbers.push_back(e->nhs_number());
    }
  }
  known_.merge(RecordStore::KnownEventHashes(tx, caller_.org_code, ids));
  if (nhs_numbers.size() > 1) {  // one alone is looked up by Event
    for (auto& p : RecordStore::FindByNhsNumbers(tx, nhs_numbers)) {
      people_.emplace(p.nhs_number(), std::move(p));
    }
  }
}

absl::StatusOr<EventResult> WriteBatch::Event(pqxx::transaction_base& tx,
                                              const icr::v1::Event& event,
                                              const std::string& field) {
  auto known = people_.find(event.nhs_number());
  if (known == people_.end()) {
    auto person = RecordStore::FindByNhsNumber(tx, event.nhs_number());
    if (!person) {
      return absl::NotFoundError(field + ".nhs_number: no such person; send the person first");
    }
    known = people_.emplace(event.nhs_number(), std::move(*person)).first;
  }
  Prefetch(tx, {&event});
  const std::string person_id = known->second.person_id();
  auto result =
      RecordStore::StoreEvent(tx, event, known->second, caller_.org_code, field, known_, pending_);
  // A death changes the stored person (date of death): read it again when next needed.
  if (event.has_death()) people_.erase(known);
  if (result.ok()) {
    item_people_.push_back(person_id);
    if (*result == EventResult::kStored) {
      known_[event.event_id()] = pending_.events.back().hash;
      item_events_.push_back(event.event_id());
    }
  }
  return result;
}

absl::StatusOr<UpsertResult> WriteBatch::Person(pqxx::transaction_base& tx,
                                                const icr::v1::Person& person,
                                                int64_t expected_version) {
  auto result =
      RecordStore::UpsertPerson(tx, person, expected_version, caller_.org_code, pending_.changes);
  if (result.ok()) {
    people_[result->person.nhs_number()] = result->person;
    item_people_.push_back(result->person.person_id());
  } else {
    people_.erase(person.nhs_number());
  }
  return result;
}

absl::Status WriteBatch::Flush(pqxx::transaction_base& tx) {
  return RecordStore::FlushDeferred(tx, caller_.org_code, pending_);
}

void WriteBatch::Keep() {
  kept_.insert(item_people_.begin(), item_people_.end());
  item_people_.clear();
  item_events_.clear();
  item_pending_events_ = pending_.events.size();
  item_pending_changes_ = pending_.changes.size();
}

void WriteBatch::Discard() {
  // The rolled-back item's rows are not written, and what it cached may not be in the database.
  pending_.events.resize(item_pending_events_);
  pending_.changes.resize(item_pending_changes_);
  pending_.deferred.clear();
  for (const auto& id : item_events_) known_.erase(id);
  people_.clear();
  item_people_.clear();
  item_events_.clear();
}

absl::Status WriteBatch::Finish(pqxx::transaction_base& tx) {
  if (auto s = Flush(tx); !s.ok()) return s;
  Keep();
  const std::vector<std::string> ids(kept_.begin(), kept_.end());
  if (auto s = RecordStore::WritePending(tx, caller_.org_code, pending_, ids); !s.ok()) return s;
  Audit::WriteMany(tx, caller_, ids, action_, kAuditOk);
  return absl::OkStatus();
}

}  // namespace icr::record
