// GetIntegratedRecord's reads, batched by the calls' own threads (leader/followers): a call is
// queued; if fewer than `batches` batches are being served, its thread takes every call queued
// by then and serves them together, its own among them; otherwise it waits until a batch that
// took its call is done, or until it may lead one. For a batch: one statement
// (RecordStore::LookupRecords: visibility, the audit row of every call, one round trip and one
// commit), then each record from the bodies held in memory (RecordCache) when the statement
// found them current, else from the store. A batch that must build records counts as done for
// the next one once its statement has run. A call is answered only after the statement that
// wrote its audit row has committed. No thread of its own: a call costs no hand-off to another
// thread when nothing else is being served, and one wake-up when it is.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "icr/v1/record.pb.h"
#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/record/record_cache.h"
#include "services/record/store.h"

namespace icr::record {

class RecordReader {
 public:
  // authorise: the caller of a call (authenticated, allowed person-level data), or why not.
  using Authorise = std::function<absl::StatusOr<Caller>(const grpc::ServerContextBase&)>;
  RecordReader(Database& db, Authorise authorise, size_t cache_bytes, int batches);
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  // Reads the record of nhs_number (as sent) for the call's caller into *out; returns when it
  // is answered.
  absl::Status Read(const grpc::ServerContextBase& ctx, const std::string& nhs_number,
                    icr::v1::IntegratedRecord* out);

 private:
  struct Call {
    const grpc::ServerContextBase* ctx;
    const std::string* nhs_number;
    icr::v1::IntegratedRecord* out;
    std::optional<absl::Status> status;  // set by the batch that served it
    bool answered = false;               // under mu_, once its batch is done
  };
  // Serves the calls, setting each one's status; calls release() (once) when the batch's
  // statement is done and a record must be built, so the next batch need not wait for it.
  void Serve(const std::vector<Call*>& calls, const std::function<void()>& release);
  // Where a look-up's body comes from: held in memory (the version is still current), else kept
  // in the store (the statement returned it), else built.
  static bool Held(const RecordStore::RecordLookup& found,
                   const std::optional<RecordCache::Hit>& held);
  static bool MustBuild(const RecordStore::RecordLookup& found,
                        const std::optional<RecordCache::Hit>& held);
  // The record body for a look-up the statement let through: held, kept or built.
  absl::StatusOr<std::shared_ptr<const std::string>> Body(
      const std::string& nhs, const Caller& caller, const std::optional<RecordCache::Hit>& held,
      RecordStore::RecordLookup& found);

  static constexpr size_t kMaxBatch = 256;
  Database& db_;
  Authorise authorise_;
  RecordCache cache_;
  const int max_batches_;
  std::mutex mu_;
  std::condition_variable answered_;  // a batch is done: its calls are answered, a lead is free
  std::deque<Call*> queue_;
  int batches_ = 0;  // being served
};

}  // namespace icr::record
