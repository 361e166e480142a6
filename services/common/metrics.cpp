#include "services/common/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <map>
#include <mutex>

#include "icr/v1/common.pb.h"
#include "services/common/listen_address.h"
#include "services/common/sql/statements.h"

namespace icr::metrics {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::atomic<bool> g_enabled{false};

// The process-wide registry and the families every replica has.
struct Process {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  Family<Counter>& started = prometheus::BuildCounter()
                                 .Name("grpc_server_started_total")
                                 .Help("Total number of RPCs started on the server.")
                                 .Register(*registry);
  Family<Counter>& handled =
      prometheus::BuildCounter()
          .Name("grpc_server_handled_total")
          .Help("Total number of RPCs completed on the server, regardless of success or failure.")
          .Register(*registry);
  Family<Histogram>& seconds =
      prometheus::BuildHistogram()
          .Name("grpc_server_handling_seconds")
          .Help(
              "Histogram of response latency (seconds) of gRPC that had been application-level "
              "handled by the server.")
          .Register(*registry);
  Family<Counter>& received =
      prometheus::BuildCounter()
          .Name("grpc_server_msg_received_total")
          .Help("Total number of RPC stream messages received on the server.")
          .Register(*registry);
  Family<Counter>& sent = prometheus::BuildCounter()
                              .Name("grpc_server_msg_sent_total")
                              .Help("Total number of gRPC stream messages sent by the server.")
                              .Register(*registry);
  Family<Counter>& import_rows = prometheus::BuildCounter()
                                     .Name("icr_import_rows_total")
                                     .Help("Rows handled by the bulk imports, by outcome.")
                                     .Register(*registry);
  std::mutex gauges_mu;
  std::map<std::string, Family<Gauge>*> gauges;
};

Process& P() {
  // Never destroyed: calls may still end (and be counted) while the process exits.
  static Process* p = new Process();
  return *p;
}

// go-grpc-prometheus's spelling of each status code (Go's codes.Code.String()).
const char* CodeName(grpc::StatusCode code) {
  static constexpr std::array<const char*, 17> kNames = {
      "OK",       "Canceled",       "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound", "AlreadyExists",  "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",  "OutOfRange",     "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss", "Unauthenticated"};
  const auto i = static_cast<size_t>(code);
  return i < kNames.size() ? kNames[i] : "Unknown";
}

const char* TypeName(grpc::experimental::ServerRpcInfo::Type type) {
  using T = grpc::experimental::ServerRpcInfo::Type;
  switch (type) {
    case T::UNARY:
      return "unary";
    case T::CLIENT_STREAMING:
      return "client_stream";
    case T::SERVER_STREAMING:
      return "server_stream";
    case T::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unary";
}

MetricFamily NewFamily(const std::string& name, const std::string& help, MetricType type) {
  return MetricFamily{name, help, type, {}};
}

void AddValue(MetricFamily& family, std::vector<prometheus::ClientMetric::Label> labels,
              double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (family.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  family.metric.push_back(std::move(m));
}

class Pools : public prometheus::Collectable {
 public:
  explicit Pools(std::vector<std::pair<std::string, Database*>> pools) : pools_(std::move(pools)) {}
  std::vector<MetricFamily> Collect() const override {
    auto size =
        NewFamily("icr_db_pool_size", "Database connections the pool may open.", MetricType::Gauge);
    auto open = NewFamily("icr_db_pool_open", "Database connections open (idle or in use).",
                          MetricType::Gauge);
    auto in_use = NewFamily("icr_db_pool_in_use", "Database connections in use by a call.",
                            MetricType::Gauge);
    auto acquired = NewFamily("icr_db_pool_acquired_total", "Database connections handed to calls.",
                              MetricType::Counter);
    auto waited =
        NewFamily("icr_db_pool_wait_seconds_total",
                  "Time calls spent waiting for a free database connection.", MetricType::Counter);
    for (const auto& [name, db] : pools_) {
      const auto s = db->pool_stats();
      const std::vector<prometheus::ClientMetric::Label> l = {{"pool", name}};
      AddValue(size, l, s.size);
      AddValue(open, l, s.open);
      AddValue(in_use, l, s.in_use);
      AddValue(acquired, l, static_cast<double>(s.acquired));
      AddValue(waited, l, s.wait_seconds);
    }
    return {size, open, in_use, acquired, waited};
  }

 private:
  std::vector<std::pair<std::string, Database*>> pools_;
};

class Feed : public prometheus::Collectable {
 public:
  explicit Feed(Database& db) : db_(db) {}
  std::vector<MetricFamily> Collect() const override {
    int64_t head = 0, position = 0, lag_ms = 0;
    const auto status = db_.Read([&](pqxx::nontransaction& tx) -> absl::Status {
      auto r = Exec(tx, common::sql::kMetricsFeed);
      if (r.empty()) return absl::NotFoundError("s117.feed_cursor has no row for 's117'");
      head = r[0][0].as<int64_t>();
      position = r[0][1].as<int64_t>();
      lag_ms = r[0][2].as<int64_t>();
      return absl::OkStatus();
    });
    if (!status.ok()) {
      spdlog::warn("metrics: change feed position not read: {}", std::string(status.message()));
      return {};
    }
    auto f_head =
        NewFamily("icr_change_feed_head_seq",
                  "The last sequence number the change feed has given out.", MetricType::Gauge);
    auto f_position = NewFamily("icr_s117_follower_position",
                                "The sequence number of the last change the S117 follower applied.",
                                MetricType::Gauge);
    auto f_lag = NewFamily("icr_s117_follower_lag_changes",
                           "Changes given out after the S117 follower's position (approximate: "
                           "sequence numbers are given out in insert order, not commit order).",
                           MetricType::Gauge);
    auto f_lag_s = NewFamily("icr_s117_follower_lag_seconds",
                             "How old the last change the S117 follower applied was when applied.",
                             MetricType::Gauge);
    AddValue(f_head, {}, static_cast<double>(head));
    AddValue(f_position, {}, static_cast<double>(position));
    AddValue(f_lag, {}, static_cast<double>(std::max<int64_t>(0, head - position)));
    AddValue(f_lag_s, {}, static_cast<double>(lag_ms) / 1000);
    return {f_head, f_position, f_lag, f_lag_s};
  }

 private:
  Database& db_;
};

}  // namespace

bool Enabled() { return g_enabled.load(std::memory_order_relaxed); }

void SetGauge(const std::string& name, const std::string& help, const prometheus::Labels& labels,
              double value) {
  if (!Enabled()) return;
  Process& p = P();
  Family<Gauge>* family;
  {
    std::lock_guard lock(p.gauges_mu);
    auto& f = p.gauges[name];
    if (!f) f = &prometheus::BuildGauge().Name(name).Help(help).Register(*p.registry);
    family = f;
  }
  family->Add(labels).Set(value);
}

void CountImportRows(std::string_view kind, std::string_view outcome, double rows) {
  if (!Enabled() || rows <= 0) return;
  P().import_rows.Add({{"kind", std::string(kind)}, {"outcome", std::string(outcome)}})
      .Increment(rows);
}

void CountImportRow(std::string_view kind, int import_row_outcome) {
  if (!Enabled()) return;
  std::string outcome = icr::v1::ImportRowResult::Outcome_Name(import_row_outcome);
  for (auto& c : outcome) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CountImportRows(kind, outcome);
}

RpcMetrics::RpcMetrics(const std::string& service, const std::string& method,
                       grpc::experimental::ServerRpcInfo::Type type)
    : labels_{{"grpc_type", TypeName(type)}, {"grpc_service", service}, {"grpc_method", method}} {
  P().started.Add(labels_).Increment();
}

void RpcMetrics::Received() { P().received.Add(labels_).Increment(); }

void RpcMetrics::Sent() { P().sent.Add(labels_).Increment(); }

void RpcMetrics::Handled(grpc::StatusCode code, double seconds) {
  auto with_code = labels_;
  with_code["grpc_code"] = CodeName(code);
  P().handled.Add(with_code).Increment();
  // go-grpc-prometheus's (Prometheus's default) buckets.
  P().seconds
      .Add(labels_, Histogram::BucketBoundaries{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10})
      .Observe(seconds);
}

std::shared_ptr<prometheus::Collectable> PoolCollectable(
    std::vector<std::pair<std::string, Database*>> pools) {
  return std::make_shared<Pools>(std::move(pools));
}

std::shared_ptr<prometheus::Collectable> FeedCollectable(Database& db) {
  return std::make_shared<Feed>(db);
}

absl::StatusOr<std::unique_ptr<Endpoint>> Endpoint::Start(
    const std::string& listen, std::vector<std::shared_ptr<prometheus::Collectable>> extra) {
  auto address = ParseListenAddress(listen, "--metrics-listen");
  if (!address.ok()) return address.status();
  std::unique_ptr<Endpoint> out(new Endpoint());
  const std::string host =
      address->host.find(':') != std::string::npos ? "[" + address->host + "]" : address->host;
  try {
    out->exposer_ =
        std::make_unique<prometheus::Exposer>(host + ":" + std::to_string(address->port), 1);
  } catch (const std::exception& e) {
    return absl::UnavailableError("cannot listen on --metrics-listen " + listen + ": " + e.what());
  }
  const auto ports = out->exposer_->GetListeningPorts();
  out->port_ = ports.empty() ? 0 : ports.front();
  out->exposer_->RegisterCollectable(P().registry);
  out->extra_ = std::move(extra);
  for (const auto& c : out->extra_) out->exposer_->RegisterCollectable(c);
  g_enabled = true;
  return out;
}

Endpoint::~Endpoint() = default;

}  // namespace icr::metrics
