// WatchChanges: the change feed (core.changes) delivered to a caller, batch by batch, each batch
// audited, with a follower woken by PostgreSQL's LISTEN/NOTIFY when changes are committed
// (migration 0017 notifies channel icr_changes from every statement that adds to the feed)
// instead of sleeping in a loop.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "icr/v1/record.pb.h"
#include "services/common/auth.h"
#include "services/common/db.h"

namespace icr::record {

// One listener connection per process on channel icr_changes: its thread wakes every waiting
// stream through a condition variable when a notification arrives. A lost connection is made
// again (waking the streams, which then read); waits are bounded, so a notification lost or
// not sent only delays a follower.
class ChangeNotifier {
 public:
  static constexpr char kChannel[] = "icr_changes";

  explicit ChangeNotifier(std::string database_url);
  ~ChangeNotifier();
  ChangeNotifier(const ChangeNotifier&) = delete;
  ChangeNotifier& operator=(const ChangeNotifier&) = delete;

  // A count of the notifications so far: take it before reading, then Wait for it to move.
  uint64_t Generation();
  // Waits until the count is no longer `seen`, or `timeout` passes. True when it moved.
  bool Wait(uint64_t seen, std::chrono::milliseconds timeout);
  void Wake();

 private:
  void Listen();

  const std::string url_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

class ChangeStream {
 public:
  // The longest a follower waits for a notification before reading again.
  static constexpr std::chrono::milliseconds kFallbackPoll{500};
  // Changes read (and audited) per transaction.
  static constexpr int kBatch = 500;

  explicit ChangeStream(Database& db);

  // Sends the changes after the request's cursor about people the caller's organisation may
  // see (the access rule), in feed order, through `write` (false: the caller has gone, CANCELLED),
  // auditing each batch: one row per person it names, in the read's transaction. Stops after
  // max_changes, or at the end of the feed unless `follow`; a follower stops when `cancelled`.
  absl::Status Serve(const Caller& caller, const icr::v1::WatchChangesRequest& request,
                     const std::function<bool()>& cancelled,
                     const std::function<bool(const icr::v1::Change&)>& write);

 private:
  Database& db_;
  ChangeNotifier notifier_;
};

}  // namespace icr::record
