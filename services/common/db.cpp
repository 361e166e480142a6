#include "services/common/db.h"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <typeinfo>

#include "services/common/sql/statements.h"

namespace icr {
namespace {
using Clock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

thread_local SystemClock::time_point t_call_deadline = SystemClock::time_point::max();

// An idle pooled connection has nothing to read unless its server ended it (a FATAL message such
// as "terminating connection due to administrator command", then EOF): the server restarted,
// failed over or was stopped. Such a connection is dropped before use rather than failing a call.
bool EndedWhileIdle(pqxx::connection& conn) {
  pollfd p{conn.sock(), POLLIN, 0};
  return p.fd < 0 || ::poll(&p, 1, 0) != 0;
}

void SetStatementTimeout(pqxx::connection& conn, std::chrono::milliseconds timeout) {
  pqxx::nontransaction tx(conn);
  Exec(tx, common::sql::kDbStatementTimeout, std::to_string(timeout.count()));
}
}  // namespace

void SetCallDeadline(SystemClock::time_point deadline) { t_call_deadline = deadline; }
void ClearCallDeadline() { t_call_deadline = SystemClock::time_point::max(); }

std::string HardenConnectionString(const std::string& url) {
  // Adds only the keys the caller did not set, in the syntax the caller used (URL or key=value).
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"connect_timeout", "3"},     {"keepalives", "1"},       {"keepalives_idle", "5"},
      {"keepalives_interval", "2"}, {"keepalives_count", "2"}, {"tcp_user_timeout", "10000"},
      {"application_name", "icr"}};
  const bool is_url = url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
  std::string out = url;
  for (const auto& [key, value] : defaults) {
    if (url.find(key + "=") != std::string::npos) continue;
    if (is_url) {
      out += (out.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
    } else {
      out += (out.empty() ? "" : " ") + key + "=" + value;
    }
  }
  return out;
}

absl::StatusOr<std::string> DescribeConnection(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (!options) {
    // Not libpq's message: it can quote a piece of the string, which may be a password.
    PQfreemem(error);
    return absl::InvalidArgumentError("not a PostgreSQL connection URL or key=value string");
  }
  std::string out;
  for (const std::string_view key :
       {"host", "hostaddr", "port", "dbname", "target_session_attrs"}) {
    for (PQconninfoOption* o = options; o->keyword; ++o) {
      if (o->keyword == key && o->val && *o->val) {
        out += (out.empty() ? "" : " ") + std::string(key) + "=" + o->val;
      }
    }
  }
  PQconninfoFree(options);
  return out;
}

absl::Status StatusFromDbException(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
    return absl::UnavailableError("database unavailable");
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e)) {
    return absl::UnavailableError("database connection lost during commit; outcome unknown");
  }
  if (dynamic_cast<const pqxx::unique_violation*>(&e)) {
    return absl::AlreadyExistsError("already exists");
  }
  if (dynamic_cast<const pqxx::serialization_failure*>(&e) ||
      dynamic_cast<const pqxx::deadlock_detected*>(&e)) {
    return absl::AbortedError("concurrent update; retry");
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    if (state == "57014") return absl::DeadlineExceededError("database statement timed out");
    if (state.rfind("08", 0) == 0 || state == "57P01" || state == "57P03") {
      return absl::UnavailableError("database unavailable");
    }
    if (state.rfind("23", 0) == 0) {
      return absl::FailedPreconditionError("refused by a database constraint");
    }
    // Only the SQLSTATE: server messages can quote the values involved (a DETAIL line names
    // the key of a unique violation, e.g. an NHS number), and logs carry no personal data.
    spdlog::error("database error sqlstate={}", state);
    return absl::InternalError("database error");
  }
  spdlog::error("database error ({})", typeid(e).name());
  return absl::InternalError("database error");
}

CallWatchdog::CallWatchdog() : thread_([this] { Loop(); }) {}

CallWatchdog::~CallWatchdog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

uint64_t CallWatchdog::Arm(int fd, std::chrono::steady_clock::time_point deadline) {
  std::lock_guard lock(mu_);
  const uint64_t id = next_id_++;
  calls_[id] = Entry{fd, deadline};
  if (deadline < wake_at_) cv_.notify_all();
  return id;
}

bool CallWatchdog::Disarm(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = calls_.find(id);
  const bool fired = it != calls_.end() && it->second.fired;
  if (it != calls_.end()) calls_.erase(it);
  return fired;
}

void CallWatchdog::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    auto next = std::chrono::steady_clock::time_point::max();
    const auto now = std::chrono::steady_clock::now();
    for (auto& [id, e] : calls_) {
      if (e.fired) continue;
      if (e.deadline <= now) {
        // The owning call still holds the connection, so the descriptor is still its socket.
        ::shutdown(e.fd, SHUT_RDWR);
        e.fired = true;
      } else {
        next = std::min(next, e.deadline);
      }
    }
    // With nothing to watch, look again in a second rather than sleeping until woken.
    wake_at_ = std::min(next, now + std::chrono::seconds(1));
    cv_.wait_until(lock, wake_at_);
  }
}

Database::Database(std::string url, int pool_size, std::chrono::milliseconds call_timeout)
    : url_(HardenConnectionString(url)),
      pool_size_(pool_size > 0 ? pool_size : 1),
      call_timeout_(call_timeout) {}

Database::~Database() = default;

Database::Limit Database::LimitFor(std::chrono::milliseconds timeout) {
  const auto now = Clock::now();
  Limit limit{now + timeout, false, timeout};
  if (t_call_deadline != SystemClock::time_point::max()) {
    const auto left =
        std::chrono::duration_cast<Clock::duration>(t_call_deadline - SystemClock::now());
    if (left < timeout) limit = {now + left, true, timeout};
  }
  return limit;
}

absl::Status Database::OutOfTime(const Limit& limit) {
  if (limit.callers_deadline) {
    return absl::DeadlineExceededError("deadline exceeded waiting for the database");
  }
  return absl::UnavailableError("database not answering within " +
                                std::to_string(limit.timeout.count()) + " ms");
}

std::unique_ptr<pqxx::connection> Database::Connect(const Limit& limit) {
  // Connecting is bounded by connect_timeout (HardenConnectionString); what follows by the limit.
  auto conn = std::make_unique<pqxx::connection>(url_);
  const uint64_t watch = watchdog_.Arm(conn->sock(), limit.at);
  try {
    SetStatementTimeout(*conn, call_timeout_);
  } catch (...) {
    watchdog_.Disarm(watch);
    throw;
  }
  if (watchdog_.Disarm(watch)) throw pqxx::broken_connection("database not answering");
  return conn;
}

std::unique_ptr<pqxx::connection> Database::Acquire(const Limit& limit, absl::Status& status) {
  std::unique_lock lock(mu_);
  const auto free = [&] { return !idle_.empty() || open_ < pool_size_; };
  if (!free()) {
    const auto asked = Clock::now();
    const bool got = cv_.wait_until(lock, limit.at, free);
    waited_ += Clock::now() - asked;
    if (!got) {
      status = limit.callers_deadline ? OutOfTime(limit)
                                      : absl::UnavailableError("database pool exhausted");
      return nullptr;
    }
  }
  ++acquired_;
  while (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    if (!EndedWhileIdle(*conn)) return conn;
    --open_;
  }
  ++open_;
  lock.unlock();
  try {
    return Connect(limit);
  } catch (const std::exception& e) {
    {
      std::lock_guard relock(mu_);
      --open_;
    }
    cv_.notify_one();
    status = StatusFromDbException(e);
    if (status.code() != absl::StatusCode::kUnavailable) {
      status = absl::UnavailableError("database unavailable");
    }
    return nullptr;
  }
}

Database::PoolStats Database::pool_stats() const {
  std::lock_guard lock(mu_);
  return {pool_size_, open_, open_ - static_cast<int>(idle_.size()), acquired_,
          std::chrono::duration<double>(waited_).count()};
}

void Database::Release(std::unique_ptr<pqxx::connection> conn) {
  {
    std::lock_guard lock(mu_);
    if (conn && conn->is_open()) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  cv_.notify_one();
}

absl::Status Database::Run(const std::function<absl::Status(pqxx::connection&)>& fn) {
  return Run(fn, call_timeout_);
}

absl::Status Database::Run(const std::function<absl::Status(pqxx::connection&)>& fn,
                           std::chrono::milliseconds timeout) {
  const Limit limit = LimitFor(timeout);
  if (limit.at <= Clock::now()) return OutOfTime(limit);
  absl::Status status;
  auto conn = Acquire(limit, status);
  if (conn) {
    // A call with a time limit of its own has it as statement_timeout too, then gives back the
    // pool's; a connection whose setting may not have been given back is not reused.
    const bool own_timeout = timeout != call_timeout_;
    bool reusable = true;
    const uint64_t watch = watchdog_.Arm(conn->sock(), limit.at);
    try {
      if (own_timeout) SetStatementTimeout(*conn, timeout);
      status = fn(*conn);
      if (own_timeout) SetStatementTimeout(*conn, call_timeout_);
    } catch (const std::exception& e) {
      status = StatusFromDbException(e);
      reusable = !own_timeout;
    }
    if (watchdog_.Disarm(watch)) {
      spdlog::warn("database call overran {}; connection dropped",
                   limit.callers_deadline ? "its caller's deadline"
                                          : std::to_string(timeout.count()) + " ms");
      status = OutOfTime(limit);
      reusable = false;
    } else if (status.code() == absl::StatusCode::kUnavailable) {
      reusable = false;
    } else if (status.code() == absl::StatusCode::kDeadlineExceeded) {
      status = OutOfTime(limit);  // statement_timeout
    }
    if (!reusable) conn.reset();
    Release(std::move(conn));
  }
  // Whatever went wrong, a caller whose deadline has passed is told so.
  if (!status.ok() && limit.callers_deadline && Clock::now() >= limit.at) return OutOfTime(limit);
  return status;
}

absl::Status Database::Write(const std::function<absl::Status(pqxx::work&)>& fn) {
  return Write(fn, call_timeout_);
}

absl::Status Database::Write(const std::function<absl::Status(pqxx::work&)>& fn,
                             std::chrono::milliseconds timeout) {
  return Run(
      [&](pqxx::connection& c) {
        pqxx::work tx(c);
        absl::Status s = fn(tx);
        if (s.ok()) {
          tx.commit();
        } else {
          tx.abort();
        }
        return s;
      },
      timeout);
}

std::string PgTextArray(const std::vector<std::string>& values) {
  size_t size = 2;
  for (const auto& v : values) size += v.size() + 3;
  std::string out;
  out.reserve(size + size / 8);
  out += '{';
  for (const auto& v : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    size_t from = 0;
    for (size_t at = v.find_first_of("\\\"", from); at != std::string::npos;
         at = v.find_first_of("\\\"", from)) {
      out.append(v, from, at - from);
      out += '\\';
      out += v[at];
      from = at + 1;
    }
    out.append(v, from, std::string::npos);
    out += '"';
  }
  out += '}';
  return out;
}

absl::Status Database::Read(const std::function<absl::Status(pqxx::nontransaction&)>& fn) {
  return Run([&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return fn(tx);
  });
}

}  // namespace icr
