#include "services/record/importer.h"

#include <algorithm>
#include <optional>
#include <set>

#include "services/common/savepoint.h"
#include "services/common/status.h"
#include "services/record/person_merge.h"
#include "services/record/record_rules.h"
#include "services/record/write_batch.h"

namespace icr::record {
namespace {

// Runs one import item's writes: a database error becomes the item's status (it is rolled back
// alone); a lost connection ends the batch.
absl::Status Guard(const std::function<absl::Status()>& write) {
  try {
    return write();
  } catch (const pqxx::broken_connection&) {
    throw;
  } catch (const std::exception& e) {
    return StatusFromDbException(e);
  }
}

absl::Status RunAgainWithSavepoints() {
  return absl::AbortedError("an item failed: run the batch with savepoints");
}

// Validates (and normalises) an item; `key` is what its refusal names.
absl::Status ValidateItem(icr::v1::ImportItem& item, const ReferenceData& ref, Date today,
                          std::string& key) {
  if (item.has_person()) {
    key = "person";
    return ValidatePerson(*item.mutable_person(), ref, "person", today);
  }
  if (item.has_event()) {
    key = item.event().event_id();
    return ValidateEvent(*item.mutable_event(), ref, "event", today);
  }
  return InvalidField("item", "neither a person nor an event");
}

}  // namespace

Importer::Importer(Database& db, const ReferenceData& ref, const Caller& caller,
                   icr::v1::ImportSummary& summary)
    : db_(db), ref_(ref), caller_(caller), summary_(summary) {}

absl::Status Importer::Run(const std::function<bool(icr::v1::ImportItem*)>& read) {
  const Date today = Today();
  absl::Status status;
  {
    ImportLanes lanes(ImportLanes::kImportEventsLanes, kBatchSize,
                      [this](Batch& batch) { return StoreBatch(batch); });
    icr::v1::ImportItem item;
    int64_t index = 0;
    while (status.ok() && read(&item)) {
      const int64_t i = index++;
      std::string key;
      if (absl::Status s = ValidateItem(item, ref_, today, key); !s.ok()) {
        Reject(i, key, s);
        continue;
      }
      const std::string nhs =
          item.has_person() ? item.person().nhs_number() : item.event().nhs_number();
      status = lanes.Add(nhs, {i, std::move(item)});
    }
    if (status.ok()) status = lanes.Finish();
    summary_.set_received(index);  // the lanes have stopped
  }
  KeepFirstRejections();
  for (auto& r : rejections_) *summary_.add_rejections() = std::move(r);
  rejections_.clear();
  return status;
}

absl::Status Importer::StoreBatch(Batch& batch) {
  RETURN_IF_ERROR(ResolveAliases(batch));
  BatchRun run;
  absl::Status s = RunBatch(batch, /*savepoints=*/false, run);
  for (int again = 0; again < kBatchRuns && absl::IsAborted(s); ++again) {
    s = RunBatch(batch, /*savepoints=*/true, run);
  }
  RETURN_IF_ERROR(s);
  for (const auto& [item, refusal] : run.failures) {
    Reject(item->index, item->item.has_event() ? item->item.event().event_id() : "person", refusal);
  }
  std::lock_guard<std::mutex> lock(mu_);
  summary_.set_stored(summary_.stored() + run.stored);
  summary_.set_duplicates(summary_.duplicates() + run.duplicates);
  // Lanes commit in any order: the import's last change is the furthest in the feed.
  if (run.last_change && (!last_change_ || CursorBefore(*last_change_, *run.last_change))) {
    last_change_ = run.last_change;
    summary_.set_change_cursor(EncodeCursor(*last_change_));
  }
  return absl::OkStatus();
}

absl::Status Importer::ResolveAliases(Batch& batch) {
  const auto number_of = [](ImportLanes::Item& p) {
    return p.item.has_person() ? p.item.mutable_person()->mutable_nhs_number()
                               : p.item.mutable_event()->mutable_nhs_number();
  };
  std::vector<std::string> numbers;
  for (auto& p : batch) numbers.push_back(*number_of(p));
  return db_.Write([&](pqxx::work& tx) {
    const auto current = PersonMerge::ResolveAliases(tx, numbers);
    for (auto& p : batch) {
      auto found = current.find(*number_of(p));
      if (found != current.end()) *number_of(p) = found->second;
    }
    return absl::OkStatus();
  });
}

absl::Status Importer::RunBatch(const Batch& batch, bool savepoints, BatchRun& run) {
  return db_.Write([&](pqxx::work& tx) -> absl::Status {
    WriteBatch writes(caller_, "ImportEvents");
    return StoreItems(tx, writes, batch, savepoints, run);
  });
}

absl::Status Importer::StoreItems(pqxx::transaction_base& tx, WriteBatch& writes,
                                  const Batch& batch, bool savepoints, BatchRun& run,
                                  const std::function<void(size_t)>& after_item) {
  run = BatchRun{};
  std::vector<const icr::v1::Event*> events;
  std::set<std::string> people;
  for (const auto& p : batch) {
    if (p.item.has_event()) events.push_back(&p.item.event());
    if (p.item.has_person()) people.insert(p.item.person().nhs_number());
  }
  writes.Prefetch(tx, events, people);
  for (const auto& p : batch) {
    std::optional<Savepoint> savepoint;
    if (savepoints) savepoint.emplace(tx);
    bool duplicate = false;
    const absl::Status item_status =
        Guard([&] { return StoreItem(tx, writes, p, savepoints, duplicate); });
    if (!item_status.ok() && !savepoints) return RunAgainWithSavepoints();
    if (item_status.ok()) {
      if (savepoint) savepoint->Release();
      writes.Keep();
      duplicate ? ++run.duplicates : ++run.stored;
    } else {
      savepoint->Rollback();
      writes.Discard();
      run.failures.emplace_back(&p, item_status);
    }
    run.duplicate.push_back(item_status.ok() && duplicate);
    if (after_item) after_item(run.duplicate.size());
  }
  // Without savepoints a refusal found at the end is not yet any one item's: run again.
  const absl::Status finished = Guard([&] { return writes.Finish(tx); });
  if (!finished.ok() && !savepoints) return RunAgainWithSavepoints();
  run.last_change = writes.LastChange();
  return finished;
}

absl::Status Importer::StoreItem(pqxx::transaction_base& tx, WriteBatch& writes, const Item& p,
                                 bool savepoints, bool& duplicate) {
  if (p.item.has_person()) {
    ASSIGN_OR_RETURN(const UpsertResult stored, writes.Person(tx, p.item.person(), 0));
    duplicate = !stored.changed;
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(const EventResult result, writes.Event(tx, p.item.event(), "event"));
  duplicate = result == EventResult::kDuplicate;
  return savepoints ? writes.Flush(tx) : absl::OkStatus();
}

void Importer::Reject(int64_t index, const std::string& key, const absl::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  summary_.set_rejected(summary_.rejected() + 1);
  icr::v1::ImportSummary::Rejection r;
  r.set_index(index);
  r.set_key(key);
  r.set_code(static_cast<int>(status.code()));
  r.set_message(std::string(status.message()));
  rejections_.push_back(std::move(r));
  if (rejections_.size() >= 2 * kMaxReportedRejections) KeepFirstRejections();
}

void Importer::KeepFirstRejections() {
  std::sort(rejections_.begin(), rejections_.end(),
            [](const auto& a, const auto& b) { return a.index() < b.index(); });
  if (rejections_.size() > kMaxReportedRejections) rejections_.resize(kMaxReportedRejections);
}

}  // namespace icr::record
