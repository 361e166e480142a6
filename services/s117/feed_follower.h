// Follows the record's change feed (core.changes) so that detentions, discharges, closed
// referrals and deaths reach the S117 register with no re-keying. The cursor lives in
// s117.feed_cursor and advances in the same transaction as the work, under a row lock, so any
// number of followers (replicas) take turns; delivery is at least once and every step is
// idempotent, so a change delivered again changes nothing. icr-server runs the follower only in
// the replica holding the singleton work kFollowerWork (services/common/singleton.h), so that the
// others do not repeat its reads and wait on its lock; the row lock is what keeps the moment of a
// handover (an old holder's last step overlapping the new holder's first) harmless.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "services/common/db.h"
#include "services/common/reference.h"
#include "services/s117/store.h"

namespace icr::s117 {

// The follower's singleton work name (core.singleton_lease).
inline constexpr char kFollowerWork[] = "s117_follower";

class FeedFollower {
 public:
  // Uses its own connection to database_url; starts no thread.
  FeedFollower(const std::string& database_url, std::shared_ptr<const ReferenceData> ref);
  ~FeedFollower();  // stops the thread
  FeedFollower(const FeedFollower&) = delete;
  FeedFollower& operator=(const FeedFollower&) = delete;

  // Polls in the background every `poll` while there is nothing to do, applying changes once
  // they are `settle` old (so the events of one burst from an EPR are applied together, and a
  // reader of the record sees its own changes before the register's follow). A database that
  // goes away is logged once and retried with back-off until it returns. With `may_run`, a
  // poll runs a step only while it answers true (Singletons::Gate).
  void Start(std::chrono::milliseconds poll = std::chrono::milliseconds(200),
             std::chrono::milliseconds settle = std::chrono::seconds(1),
             std::function<bool()> may_run = nullptr);
  void Stop();

  // Applies every change committed so far, synchronously; returns how many changes were read.
  absl::StatusOr<int64_t> CatchUp();

 private:
  // Reads one batch after the cursor and applies the changes at least min_age old in one
  // transaction; returns how many it applied.
  absl::StatusOr<int> Step(std::chrono::milliseconds min_age);
  void Loop(std::chrono::milliseconds poll, std::chrono::milliseconds settle,
            const std::function<bool()>& may_run);

  Database db_;
  std::shared_ptr<const ReferenceData> ref_;
  PolicyCache policy_;
  std::mutex step_mu_;  // one batch at a time in this process
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace icr::s117
