#include "services/record/change_stream.h"

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <set>
#include <vector>

#include "services/common/audit.h"
#include "services/common/changes.h"
#include "services/common/status.h"

namespace icr::record {
namespace {

// Wakes the notifier for every notification on its channel (libpqxx issues the LISTEN).
class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, ChangeNotifier& notifier)
      : pqxx::notification_receiver(conn, ChangeNotifier::kChannel), notifier_(notifier) {}
  void operator()(const std::string&, int) override { notifier_.Wake(); }

 private:
  ChangeNotifier& notifier_;
};

icr::v1::Change ToProto(const ChangeRow& row) {
  icr::v1::Change c;
  c.set_cursor(EncodeCursor(row.cursor));
  c.set_entity(row.entity);
  c.set_entity_id(row.entity_id);
  c.set_person_id(row.person_id);
  c.set_change_type(row.change_type);
  *c.mutable_committed_at() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(row.committed_at_us);
  c.set_organisation_code(row.org_code);
  c.set_seq(row.cursor.seq);
  c.set_lag_ms(row.lag_ms);
  return c;
}

}  // namespace

ChangeNotifier::ChangeNotifier(std::string database_url)
    : url_(HardenConnectionString(database_url)), thread_([this] { Listen(); }) {}

ChangeNotifier::~ChangeNotifier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

uint64_t ChangeNotifier::Generation() {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

bool ChangeNotifier::Wait(uint64_t seen, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return generation_ != seen || stop_; });
}

void ChangeNotifier::Wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

void ChangeNotifier::Listen() {
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<Receiver> receiver;
  bool warned = false;  // once an outage, not every second of it
  auto stopping = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  };
  while (!stopping()) {
    try {
      if (!conn) {
        conn = std::make_unique<pqxx::connection>(url_);
        receiver = std::make_unique<Receiver>(*conn, *this);
        Wake();  // notifications may have been missed while not listening
        warned = false;
      }
      conn->await_notification(0, 200'000);  // looks at stop_ five times a second
    } catch (const std::exception& e) {
      if (!warned) {
        spdlog::warn("change feed listener: {}; followers poll until it reconnects", e.what());
        warned = true;
      }
      receiver.reset();
      conn.reset();
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; });
    }
  }
}

ChangeStream::ChangeStream(Database& db) : db_(db), notifier_(db.url()) {}

absl::Status ChangeStream::Serve(const Caller& caller, const icr::v1::WatchChangesRequest& req,
                                 const std::function<bool()>& cancelled,
                                 const std::function<bool(const icr::v1::Change&)>& write) {
  ASSIGN_OR_RETURN(ChangeCursor cursor, DecodeCursor(req.cursor()));
  if (req.max_changes() < 0) return InvalidField("max_changes", "must not be negative");
  // Every role follows only changes about people its organisation may see (the access rule).
  const std::optional<std::string> visible_to = caller.org_code;
  int64_t sent = 0;
  while (!cancelled()) {
    int limit = kBatch;
    if (req.max_changes() > 0) {
      limit = static_cast<int>(std::min<int64_t>(limit, req.max_changes() - sent));
    }
    // Taken before the read: a notification for a commit after it wakes the wait below.
    const uint64_t generation = notifier_.Generation();
    std::vector<ChangeRow> rows;
    RETURN_IF_ERROR(db_.Write([&](pqxx::work& tx) {
      rows = Changes::Read(tx, cursor, limit, visible_to);
      std::set<std::string> people;
      for (const auto& row : rows) {
        if (!row.person_id.empty()) people.insert(row.person_id);
      }
      Audit::WriteMany(tx, caller, {people.begin(), people.end()}, "WatchChanges", kAuditOk);
      return absl::OkStatus();
    }));
    for (const auto& row : rows) {
      if (!write(ToProto(row))) return absl::CancelledError("the caller has gone");
      cursor = row.cursor;
      ++sent;
    }
    if (req.max_changes() > 0 && sent >= req.max_changes()) break;
    if (rows.empty()) {
      if (!req.follow()) break;
      notifier_.Wait(generation, kFallbackPoll);
    }
  }
  return absl::OkStatus();
}

}  // namespace icr::record
