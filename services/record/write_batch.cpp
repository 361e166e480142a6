#include "services/record/write_batch.h"

#include "services/common/audit.h"

namespace icr::record {

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
  const std::string person_id = known->second.person_id();
  auto result = RecordStore::StoreEvent(tx, event, known->second, caller_.org_code, field);
  // A death changes the stored person (date of death): read it again when next needed.
  if (event.has_death()) people_.erase(known);
  if (result.ok()) item_.push_back(person_id);
  return result;
}

absl::StatusOr<UpsertResult> WriteBatch::Person(pqxx::transaction_base& tx,
                                                const icr::v1::Person& person,
                                                int64_t expected_version) {
  auto result = RecordStore::UpsertPerson(tx, person, expected_version, caller_.org_code);
  if (result.ok()) {
    people_[result->person.nhs_number()] = result->person;
    item_.push_back(result->person.person_id());
  } else {
    people_.erase(person.nhs_number());
  }
  return result;
}

void WriteBatch::Keep() {
  kept_.insert(item_.begin(), item_.end());
  item_.clear();
}

void WriteBatch::Discard() {
  // What the rolled-back item cached may not be in the database any more.
  people_.clear();
  item_.clear();
}

void WriteBatch::Finish(pqxx::transaction_base& tx) {
  Keep();
  const std::vector<std::string> ids(kept_.begin(), kept_.end());
  RecordStore::AddRelationships(tx, ids, caller_.org_code);
  Audit::WriteMany(tx, caller_, ids, action_, kAuditOk);
}

}  // namespace icr::record
