// GetIntegratedRecord's reads, batched: calls are queued, and a few reader threads each take
// every call queued by then and serve them together. For a batch: one statement
// (RecordStore::LookupRecords: visibility, the audit row of every call, one round trip and one
// commit), then each record from the bodies held in memory (RecordCache) when the statement
// found them current, else from the store. A call is answered only after the statement that
// wrote its audit row has committed.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
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
  RecordReader(Database& db, Authorise authorise, size_t cache_bytes, int threads);
  ~RecordReader();  // answers calls still queued with UNAVAILABLE
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  // Reads the record of nhs_number (as sent) for the call's caller into *out, then calls done
  // once, on a reader thread. ctx and out must stay valid until then.
  void Read(const grpc::ServerContextBase* ctx, std::string nhs_number,
            icr::v1::IntegratedRecord* out, std::function<void(absl::Status)> done);

 private:
  struct Call {
    const grpc::ServerContextBase* ctx;
    std::string nhs_number;
    icr::v1::IntegratedRecord* out;
    std::function<void(absl::Status)> done;
  };
  void Loop();
  void Serve(std::vector<Call>& calls);
  // The record body for a look-up the statement let through: held, kept or built.
  absl::StatusOr<std::shared_ptr<const std::string>> Body(
      const std::string& nhs, const Caller& caller, const std::optional<RecordCache::Hit>& held,
      RecordStore::RecordLookup& found);

  static constexpr size_t kMaxBatch = 256;
  Database& db_;
  Authorise authorise_;
  RecordCache cache_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Call> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace icr::record
