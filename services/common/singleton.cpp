#include "services/common/singleton.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <climits>
#include <random>

#include "services/common/metrics.h"
#include "services/common/sql/statements.h"

namespace icr {

std::string Singletons::ProcessHolderId() {
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device random;
  char tail[9];
  std::snprintf(tail, sizeof(tail), "%08x", static_cast<unsigned>(random()));
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + tail;
}

Singletons::Singletons(const std::string& database_url, std::string holder)
    : db_(database_url, 1, kAttemptTimeout), holder_(std::move(holder)) {}

Singletons::~Singletons() { Stop(); }

namespace {
// icr_singleton_held{work}: 1 while this process holds the work, 0 while it only competes.
void PublishHeld(const std::string& work, bool held) {
  metrics::SetGauge("icr_singleton_held",
                    "Singleton work (S117 follower, KPI refresh) this replica holds now (1) or "
                    "competes for (0).",
                    {{"work", work}}, held ? 1 : 0);
}
}  // namespace

void Singletons::Compete(const std::string& work) {
  std::lock_guard lock(mu_);
  leases_.try_emplace(work);
  PublishHeld(work, false);
}

void Singletons::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Singletons::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (const auto& work : HeldWork()) {
    absl::Status s = db_.Write([&](pqxx::work& tx) {
      Exec(tx, common::sql::kSingletonRelease, work, holder_);
      return absl::OkStatus();
    });
    std::lock_guard lock(mu_);
    Lease& lease = leases_[work];
    lease.held_until = std::chrono::steady_clock::time_point::min();
    lease.logged_held = false;
    PublishHeld(work, false);
    if (s.ok()) {
      spdlog::info("released singleton work {}", work);
    } else {  // it expires by itself
      spdlog::warn("released singleton work {} (not recorded: {}; it expires within {} s)", work,
                   std::string(s.message()), kLeaseTtl.count());
    }
  }
}

void Singletons::Attempt(const std::string& work) {
  const auto sent = std::chrono::steady_clock::now();
  bool taken = false;
  absl::Status s = db_.Write([&](pqxx::work& tx) {
    const double ttl = static_cast<double>(kLeaseTtl.count());
    taken = !Exec(tx, common::sql::kSingletonAcquire, work, holder_, ttl).empty();
    return absl::OkStatus();
  });
  std::lock_guard lock(mu_);
  Lease& lease = leases_[work];
  if (s.ok()) {
    lease.held_until = taken ? sent + kLeaseTtl : std::chrono::steady_clock::time_point::min();
  }
  const bool held_now = lease.held_until > std::chrono::steady_clock::now();
  LogChange(work, lease, held_now,
            s.ok() ? "held by another process" : "database: " + std::string(s.message()));
}

void Singletons::LogChange(const std::string& work, Lease& lease, bool held_now,
                           const std::string& why) {
  if (held_now == lease.logged_held) return;
  lease.logged_held = held_now;
  PublishHeld(work, held_now);
  if (held_now) {
    spdlog::info("holding singleton work {} (holder {})", work, holder_);
  } else {
    spdlog::warn("lost singleton work {} ({})", work, why);
  }
}

void Singletons::AttemptAll() {
  for (const auto& work : Competing()) Attempt(work);
}

void Singletons::Loop() {
  for (;;) {
    AttemptAll();
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, kAttemptEvery, [this] { return stop_; })) return;
  }
}

bool Singletons::Holds(const std::string& work) const {
  std::lock_guard lock(mu_);
  auto it = leases_.find(work);
  return it != leases_.end() && it->second.held_until > std::chrono::steady_clock::now();
}

std::function<bool()> Singletons::Gate(const std::string& work) const {
  return [this, work] { return Holds(work); };
}

std::vector<std::string> Singletons::HeldWork() const {
  std::vector<std::string> out;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  for (const auto& [work, lease] : leases_) {
    if (lease.held_until > now) out.push_back(work);
  }
  return out;
}

std::vector<std::string> Singletons::Competing() const {
  std::vector<std::string> out;
  std::lock_guard lock(mu_);
  for (const auto& [work, lease] : leases_) out.push_back(work);
  return out;
}

}  // namespace icr
