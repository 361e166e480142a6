// PostgreSQL access: a fixed-size pool of libpqxx connections, Exec for the statements of the
// services' sql/ directories, and the mapping of database failures to a status.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/statement.h"

namespace icr {

// Runs statement s (statement.h) in tx, preparing it on tx's connection the first time it is used
// there (libpqxx prepares a defined statement lazily, and defining it again is a no-op).
template <typename... Args>
pqxx::result Exec(pqxx::transaction_base& tx, const Statement& s, Args&&... args) {
  tx.conn().prepare(s.name, s.sql);
  return tx.exec_prepared(s.name, std::forward<Args>(args)...);
}

// Adds connect_timeout, TCP keepalives and tcp_user_timeout to a libpq URL or key=value string,
// so a database that stops answering fails a call within seconds instead of hanging it.
std::string HardenConnectionString(const std::string& url);

// Where a libpq URL or key=value string connects, for logs: its host, hostaddr, port, dbname and
// target_session_attrs as "key=value" pairs, never a password or other setting.
// INVALID_ARGUMENT when libpq cannot parse it.
absl::StatusOr<std::string> DescribeConnection(const std::string& url);

// Maps a libpqxx exception to a status (UNAVAILABLE for a lost database, ALREADY_EXISTS for a
// unique violation, ABORTED for serialization failures, INTERNAL otherwise).
absl::Status StatusFromDbException(const std::exception& e);

// Breaks the connection of a database call that overruns its time limit. A database that has
// stopped answering (a hung server process) still acknowledges TCP, so keepalives and
// tcp_user_timeout never fire; shutting the socket down makes libpq fail the call at once.
class CallWatchdog {
 public:
  CallWatchdog();
  ~CallWatchdog();
  uint64_t Arm(int fd, std::chrono::steady_clock::time_point deadline);
  // True when the call overran and its socket was shut down.
  bool Disarm(uint64_t id);

 private:
  void Loop();
  struct Entry {
    int fd;
    std::chrono::steady_clock::time_point deadline;
    bool fired = false;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, Entry> calls_;
  // When the loop wakes next: Arm wakes it only for an earlier deadline, so an ordinary call
  // costs no thread switch.
  std::chrono::steady_clock::time_point wake_at_ = std::chrono::steady_clock::time_point::min();
  uint64_t next_id_ = 1;
  bool stop_ = false;
  std::thread thread_;
};

// The deadline of the gRPC call this thread is serving: until ClearCallDeadline, every database
// call the thread makes ends by then (DEADLINE_EXCEEDED). Set around each handler (grpc_server.h).
void SetCallDeadline(std::chrono::system_clock::time_point deadline);
void ClearCallDeadline();

// A PostgreSQL array literal ({"a","b"}) for a text[] or uuid[] parameter: every element
// double-quoted, with backslashes and quotes escaped.
std::string PgTextArray(const std::vector<std::string>& values);

class Database {
 public:
  // call_timeout (--database-timeout): the longest a single Run may take, waiting for a pooled
  // connection included, before it is broken off and reported UNAVAILABLE; it is also each
  // connection's statement_timeout. A call made for a gRPC caller whose deadline comes first
  // ends at that deadline instead (DEADLINE_EXCEEDED).
  Database(std::string url, int pool_size,
           std::chrono::milliseconds call_timeout = std::chrono::seconds(5));
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;


  // Runs fn on a pooled connection. Exceptions from libpqxx become a status; a broken
  // connection is dropped and replaced on next use.
  absl::Status Run(const std::function<absl::Status(pqxx::connection&)>& fn);
  // The same with its own time limit (and statement_timeout), for known long work such as
  // recomputing indicators.
  absl::Status Run(const std::function<absl::Status(pqxx::connection&)>& fn,
                   std::chrono::milliseconds timeout);

  // Runs fn inside one transaction, committed when fn returns OK, rolled back otherwise.
  absl::Status Write(const std::function<absl::Status(pqxx::work&)>& fn);
  absl::Status Write(const std::function<absl::Status(pqxx::work&)>& fn,
                     std::chrono::milliseconds timeout);

  // Runs fn with a single-statement (non-transactional) read.
  absl::Status Read(const std::function<absl::Status(pqxx::nontransaction&)>& fn);

  const std::string& url() const { return url_; }

  // Pool use, for metrics (metrics.h): connections allowed, open (idle or handed out) and handed
  // out; connections handed out so far, and the time callers spent waiting for one.
  struct PoolStats {
    int size = 0;
    int open = 0;
    int in_use = 0;
    uint64_t acquired = 0;
    double wait_seconds = 0;
  };
  PoolStats pool_stats() const;

 private:
  // When a call must end, and whether that is its caller's deadline or the call's own timeout.
  struct Limit {
    std::chrono::steady_clock::time_point at;
    bool callers_deadline;
    std::chrono::milliseconds timeout;
  };
  static Limit LimitFor(std::chrono::milliseconds timeout);
  static absl::Status OutOfTime(const Limit& limit);
  std::unique_ptr<pqxx::connection> Connect(const Limit& limit);
  std::unique_ptr<pqxx::connection> Acquire(const Limit& limit, absl::Status& status);
  void Release(std::unique_ptr<pqxx::connection> conn);

  std::string url_;
  int pool_size_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;  // connections handed out or idle
  uint64_t acquired_ = 0;
  std::chrono::steady_clock::duration waited_{0};
  std::chrono::milliseconds call_timeout_;
  CallWatchdog watchdog_;
};

}  // namespace icr
