// Singleton work: background work that must run in one icr-server replica at a time however many
// replicas serve (every replica serves every RPC). Each kind of work has a lease row in
// core.singleton_lease (migration 0022); one thread per process takes the leases of the work it
// competes for when they are free or expired, renews them while held, and releases them when
// stopped, so a rolling restart hands the work over at once and a replica that dies (SIGKILL:
// nothing released) loses it when its lease expires, within kLeaseTtl + kAttemptEvery.
//
// A lease row, not a session advisory lock: production reaches PostgreSQL through PgBouncer in
// transaction mode, where a session lock would belong to a pooled server connection, not to this
// process. Expiry is decided by the database's clock alone; this process counts a lease as held
// only until kLeaseTtl after it sent the statement that took or renewed it (by its own monotonic
// clock), which is never later than the database's expiry, so a replica cut off from the database
// stops its work before another can take the lease. The work must still be safe to overlap for a
// moment (a step that began while held may end after the lease passed on): the S117 follower's
// cursor row lock and the KPI recompute's one-transaction replace make it so.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "services/common/db.h"

namespace icr {

class Singletons {
 public:
  // How long a lease lasts unless renewed: the longest the work stays without a runner after
  // its holder dies (plus kAttemptEvery).
  static constexpr std::chrono::seconds kLeaseTtl{5};
  // How often leases are taken or renewed: several renewals fit in one kLeaseTtl, so one slow
  // or failed renewal does not lose the work.
  static constexpr std::chrono::seconds kAttemptEvery{1};
  // The time limit of one attempt (its own database connection, so a busy pool never delays a
  // renewal); below kLeaseTtl, so a hung database loses the lease rather than the thread.
  static constexpr std::chrono::seconds kAttemptTimeout{2};

  // This process's holder id: "<hostname>:<pid>:<random hex>".
  static std::string ProcessHolderId();

  // Uses its own connection to database_url; starts no thread.
  explicit Singletons(const std::string& database_url, std::string holder = ProcessHolderId());
  ~Singletons();  // Stop()
  Singletons(const Singletons&) = delete;
  Singletons& operator=(const Singletons&) = delete;

  // Competes for `work` from the next attempt on (before or after Start).
  void Compete(const std::string& work);
  // Takes or renews every lease competed for now, then every kAttemptEvery in the background.
  void Start();
  // Stops the thread and releases the leases held. Stop the work first: it must not run after.
  void Stop();
  // One round of attempts, now (Start does this every kAttemptEvery).
  void AttemptAll();

  // Whether this process holds `work`'s lease now: the work loops ask before every run.
  bool Holds(const std::string& work) const;
  // A function asking Holds(work), for a work loop.
  std::function<bool()> Gate(const std::string& work) const;
  // The work this process holds now, and all it competes for (sorted), e.g. for a gauge.
  std::vector<std::string> HeldWork() const;
  std::vector<std::string> Competing() const;
  const std::string& holder() const { return holder_; }

 private:
  struct Lease {
    // Held until then (this process's monotonic clock); min(): not held.
    std::chrono::steady_clock::time_point held_until = std::chrono::steady_clock::time_point::min();
    bool logged_held = false;  // what was last logged, so each change is logged once
  };
  // Takes or renews one lease (a failure leaves it to expire).
  void Attempt(const std::string& work);
  // Logs a change of `work`'s state since the last call (held_now from the caller).
  void LogChange(const std::string& work, Lease& lease, bool held_now, const std::string& why);
  void Loop();

  Database db_;
  const std::string holder_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Lease> leases_;  // guarded by mu_
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace icr
