// ImportEvents: a stream of people and events validated as they arrive and stored in batches of
// kBatchSize items, one transaction each, on the lanes of ImportLanes (one person's items in one
// lane, in order). A bad item is refused alone and reported in the summary; the others are kept.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "icr/v1/record.pb.h"
#include "services/common/auth.h"
#include "services/common/changes.h"
#include "services/common/db.h"
#include "services/common/reference.h"
#include "services/record/import_lanes.h"

namespace icr::record {

class WriteBatch;

class Importer {
 public:
  static constexpr int kBatchSize = 1000;  // items per transaction
  // Runs of a batch with a savepoint per item, at most (after the first run without).
  static constexpr int kBatchRuns = 3;
  static constexpr int kMaxReportedRejections = 1000;

  // Counts and refusals go to `summary` (the caller's, for this import only).
  Importer(Database& db, const ReferenceData& ref, const Caller& caller,
           icr::v1::ImportSummary& summary);

  // Validates and stores the items `read` gives until it returns false, then the items left.
  // Items refused (invalid, or refused by the store) are counted and the first
  // kMaxReportedRejections of them by index reported in the summary; a failure that is no one
  // item's (the database lost) ends the import with that status.
  absl::Status Run(const std::function<bool(icr::v1::ImportItem*)>& read);

  using Item = ImportLanes::Item;
  using Batch = ImportLanes::Batch;
  // What one run of a batch did; replaced by the next run.
  struct BatchRun {
    int64_t stored = 0, duplicates = 0;
    std::vector<std::pair<const Item*, absl::Status>> failures;
    std::optional<ChangeCursor> last_change;  // of the batch's transaction
    // Per item: whether it was stored before (a duplicate), by the item's position in the batch.
    std::vector<bool> duplicate;
  };
  // The writes of a batch of validated items through `writes`, in the caller's transaction `tx`
  // (ImportDataset: one file, one transaction). With savepoints, an item refused is rolled back
  // alone and listed in run.failures; without, the first refusal ends the run ABORTED.
  // `after_item` (optional) is called after each item with the number done.
  static absl::Status StoreItems(pqxx::transaction_base& tx, WriteBatch& writes, const Batch& batch,
                                 bool savepoints, BatchRun& run,
                                 const std::function<void(size_t)>& after_item = nullptr);

 private:
  // Stores a batch in one transaction: first without savepoints; when an item fails, again with
  // a savepoint per item, so a bad item is rolled back alone; and again when a concurrent call
  // stored one of the batch's event ids after the run looked for them, or won a deadlock against
  // it (both ABORTED): the next run finds those ids stored and refuses their items alone.
  absl::Status StoreBatch(Batch& batch);
  // NHS numbers of the batch that are aliases (a merged record's, a changed number) rewritten
  // to the numbers they resolve to, in one read.
  absl::Status ResolveAliases(Batch& batch);
  // One run of the batch in one transaction. Without savepoints, an item's failure (or one found
  // at the end, not yet any one item's) is ABORTED, so that the batch runs again with them.
  absl::Status RunBatch(const Batch& batch, bool savepoints, BatchRun& run);
  // The writes of one item; `duplicate` is set when it was stored before.
  static absl::Status StoreItem(pqxx::transaction_base& tx, WriteBatch& writes, const Item& item,
                                bool savepoints, bool& duplicate);

  void Reject(int64_t index, const std::string& key, const absl::Status& status);
  void KeepFirstRejections();  // under mu_

  Database& db_;
  const ReferenceData& ref_;
  const Caller& caller_;
  icr::v1::ImportSummary& summary_;
  // The lanes store batches concurrently: the summary and the refusals are kept under mu_, the
  // refusals as the first kMaxReportedRejections by index (lanes report out of stream order).
  std::mutex mu_;
  std::vector<icr::v1::ImportSummary::Rejection> rejections_;
  std::optional<ChangeCursor> last_change_;  // the greatest of the batches' (under mu_)
};

}  // namespace icr::record
