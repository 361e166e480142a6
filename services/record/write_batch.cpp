#include "services/record/write_batch.h"

#include "services/common/audit.h"
#include "services/common/status.h"
#include "services/record/record_rules.h"

namespace icr::record {

void WriteBatch::Prefetch(pqxx::transaction_base& tx,
                          const std::vector<const icr::v1::Event*>& events,
                          const std::set<std::string>& upserted) {
  std::vector<std::string> ids, unknown;
  std::set<std::string> asked;
  auto ask = [&](const std::string& nhs) {
    if (!facts_.count(nhs) && asked.insert(nhs).second) unknown.push_back(nhs);
  };
  for (const auto* e : events) {
    if (looked_up_.insert(e->event_id()).second) ids.push_back(e->event_id());
    ask(e->nhs_number());
  }
  for (const auto& nhs : upserted) ask(nhs);
  known_.merge(RecordStore::KnownEventHashes(tx, caller_.org_code, ids));
  LookUp(tx, unknown);
}

void WriteBatch::LookUp(pqxx::transaction_base& tx, const std::vector<std::string>& nhs_numbers) {
  if (nhs_numbers.empty()) return;
  for (const auto& nhs : nhs_numbers) facts_[nhs] = access::Facts{};  // no one, unless found
  for (auto& found : RecordStore::FindByNhsNumbers(tx, nhs_numbers, caller_.org_code)) {
    const std::string nhs = found.person.nhs_number();
    facts_[nhs] = found.facts;
    person_ids_[nhs] = found.person.person_id();
    people_.emplace(nhs, std::move(found.person));  // one stored in this batch is fresher
  }
}

access::Facts& WriteBatch::FactsFor(pqxx::transaction_base& tx, const std::string& nhs) {
  if (!facts_.count(nhs)) LookUp(tx, {nhs});
  return facts_[nhs];
}

void WriteBatch::SetFacts(const std::string& nhs, const access::Facts& facts) {
  auto it = facts_.find(nhs);
  item_facts_undo_.emplace_back(
      nhs, it == facts_.end() ? std::nullopt : std::optional<access::Facts>(it->second));
  facts_[nhs] = facts;
}

absl::Status WriteBatch::Refuse(const std::string& person_id, const access::Decision& decision) {
  refusals_.emplace_back(person_id, decision);
  return decision.status;
}

absl::StatusOr<EventResult> WriteBatch::Event(pqxx::transaction_base& tx,
                                              const icr::v1::Event& event,
                                              const std::string& field) {
  const std::string& nhs = event.nhs_number();
  access::Facts facts = FactsFor(tx, nhs);
  std::string names_other;
  const access::Write write = EventWrite(event, caller_.org_code, &names_other);
  access::Decision d = access::DecideWrite(caller_, write, facts, field + ".nhs_number");
  if (d.ok() && !names_other.empty()) {
    d = {absl::PermissionDeniedError(field + "." + names_other + ": names another organisation; " +
                                     caller_.org_code + " records its own events only"),
         access::kAuditDenied};
  }
  if (!d.ok()) return Refuse(facts.exists ? person_ids_[nhs] : "", d);

  auto known = people_.find(nhs);
  if (known == people_.end()) {
    auto person = RecordStore::FindByNhsNumber(tx, nhs);
    if (!person)
      return Refuse("", {access::NotVisible(field + ".nhs_number"), access::kAuditNotFound});
    known = people_.emplace(nhs, std::move(*person)).first;
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
    // It has recorded something (sees), and an opening event opened a care relationship.
    if (!facts.sees) item_opened_.insert(person_id);
    access::Facts after = facts;
    after.sees = true;
    after.care = facts.care || write == access::Write::kOpenRelationship;
    if (after.sees != facts.sees || after.care != facts.care) SetFacts(nhs, after);
  }
  return result;
}

absl::StatusOr<UpsertResult> WriteBatch::Person(pqxx::transaction_base& tx,
                                                const icr::v1::Person& person,
                                                int64_t expected_version, bool create_only,
                                                const std::optional<Date>& residence_from) {
  const std::string& nhs = person.nhs_number();
  const access::Facts facts = FactsFor(tx, nhs);
  access::Write write = access::Write::kCreatePerson;
  if (facts.exists && create_only) {
    write = access::Write::kEvent;  // changes nothing: needs sight only
  } else if (facts.exists) {
    auto stored = people_.find(nhs);
    std::optional<icr::v1::Person> found;
    if (stored == people_.end()) found = RecordStore::FindByNhsNumber(tx, nhs);
    const icr::v1::Person* current = stored != people_.end() ? &stored->second
                                     : found                 ? &*found
                                                             : nullptr;
    write = current && !ChangesDemographics(*current, person) ? access::Write::kEvent
                                                              : access::Write::kDemographics;
  } else if (expected_version > 0) {
    write = access::Write::kEvent;  // a version of no one: not found, as an invisible person
  }
  const access::Decision d = access::DecideWrite(caller_, write, facts, "person.nhs_number");
  if (!d.ok()) return Refuse(facts.exists ? person_ids_[nhs] : "", d);
  if (facts.exists && create_only) {
    auto stored = RecordStore::FindByNhsNumber(tx, nhs);
    if (!stored) return absl::AbortedError("person: changed during the call");
    item_people_.push_back(stored->person_id());
    return UpsertResult{std::move(*stored), false, false};
  }

  auto result = RecordStore::UpsertPerson(tx, person, expected_version, caller_.org_code,
                                          pending_.changes, residence_from);
  if (result.ok()) {
    people_[result->person.nhs_number()] = result->person;
    person_ids_[nhs] = result->person.person_id();
    item_people_.push_back(result->person.person_id());
    if (result->created) {
      item_registered_.insert(result->person.person_id());
      access::Facts after;
      after.exists = after.sees = true;
      SetFacts(nhs, after);
    }
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
  registered_.insert(item_registered_.begin(), item_registered_.end());
  opened_.insert(item_opened_.begin(), item_opened_.end());
  item_people_.clear();
  item_registered_.clear();
  item_opened_.clear();
  item_events_.clear();
  item_facts_undo_.clear();
  item_pending_events_ = pending_.events.size();
  item_pending_changes_ = pending_.changes.size();
}

void WriteBatch::Discard() {
  // The rolled-back item's rows are not written, and what it cached may not be in the database.
  pending_.events.resize(item_pending_events_);
  pending_.changes.resize(item_pending_changes_);
  pending_.deferred.clear();
  for (const auto& id : item_events_) known_.erase(id);
  for (auto it = item_facts_undo_.rbegin(); it != item_facts_undo_.rend(); ++it) {
    if (it->second) {
      facts_[it->first] = *it->second;
    } else {
      facts_.erase(it->first);
    }
  }
  people_.clear();
  item_people_.clear();
  item_registered_.clear();
  item_opened_.clear();
  item_events_.clear();
  item_facts_undo_.clear();
}

void WriteBatch::WriteRefusals(pqxx::transaction_base& tx) const {
  for (const auto& [person_id, decision] : refusals_) {
    Access::AuditDecision(tx, caller_, person_id, action_, decision);
  }
}

absl::Status WriteBatch::Finish(pqxx::transaction_base& tx) {
  if (auto s = Flush(tx); !s.ok()) return s;
  Keep();
  const std::vector<std::string> ids(kept_.begin(), kept_.end());
  const std::vector<std::string> registered(registered_.begin(), registered_.end());
  ASSIGN_OR_RETURN(last_change_,
                   RecordStore::WritePending(tx, caller_.org_code, pending_, ids, registered));
  // Audited ok; those whose relationship an event of this call opened, as such.
  std::vector<std::string> ok, opened;
  for (const auto& id : ids) (opened_.count(id) ? opened : ok).push_back(id);
  Audit::WriteMany(tx, caller_, ok, action_, kAuditOk);
  Audit::WriteMany(tx, caller_, opened, action_, std::string(access::kAuditRelationshipOpened));
  WriteRefusals(tx);
  return absl::OkStatus();
}

}  // namespace icr::record
