// Prometheus metrics (--metrics-listen): the gRPC server metrics under go-grpc-prometheus's
// names and labels, counted by the access-log interceptor (logging.h); database pool use and the
// change feed's and the S117 follower's positions, read when scraped; import rows; and gauges
// any code may set (SetGauge). Until an Endpoint serves in this process nothing is counted, so
// metrics cost nothing when they are off.
#pragma once

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/collectable.h>
#include <prometheus/labels.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/db.h"

namespace prometheus {
class Exposer;
}

namespace icr::metrics {

// True once an Endpoint has started in this process.
bool Enabled();

// Sets gauge `name` (with `labels`) to value, e.g.
// SetGauge("icr_singleton_held", "Singleton work this replica holds.", {{"work", "kpi_refresh"}},
// 1).
void SetGauge(const std::string& name, const std::string& help, const prometheus::Labels& labels,
              double value);

// icr_import_rows_total{kind, outcome}: rows an import handled (kind "events", "register",
// "care_plans"; outcome "stored", "duplicate", "refused", "valid").
void CountImportRows(std::string_view kind, std::string_view outcome, double rows = 1);
// The same for one streamed import row's result, outcome named after ImportRowResult.Outcome.
void CountImportRow(std::string_view kind, int import_row_outcome);

// One RPC's metrics: grpc_server_started_total when made, then its messages, and
// grpc_server_handled_total and grpc_server_handling_seconds when it ends. Made by the access-log
// interceptor for every call, and only when Enabled().
class RpcMetrics {
 public:
  // service: "icr.v1.RecordService"; method: "GetPerson".
  RpcMetrics(const std::string& service, const std::string& method,
             grpc::experimental::ServerRpcInfo::Type type);
  void Received();
  void Sent();
  void Handled(grpc::StatusCode code, double seconds);

 private:
  prometheus::Labels labels_;
};

// Database pools by name ("primary"), read when scraped: icr_db_pool_size, _open, _in_use,
// icr_db_pool_acquired_total and icr_db_pool_wait_seconds_total.
std::shared_ptr<prometheus::Collectable> PoolCollectable(
    std::vector<std::pair<std::string, Database*>> pools);
// The change feed's head and the S117 follower's position, read from `db` when scraped (one
// statement): icr_change_feed_head_seq, icr_s117_follower_position, icr_s117_follower_lag_changes
// (head minus position), icr_s117_follower_lag_seconds (age of the last change it applied, when
// it applied it).
std::shared_ptr<prometheus::Collectable> FeedCollectable(Database& db);

// Serves GET /metrics over HTTP: this process's metrics and `extra`.
class Endpoint {
 public:
  // listen: "host:port" (port 0 = any free one). INVALID_ARGUMENT naming --metrics-listen for a
  // malformed address, UNAVAILABLE when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<Endpoint>> Start(
      const std::string& listen, std::vector<std::shared_ptr<prometheus::Collectable>> extra);
  ~Endpoint();
  int port() const { return port_; }

 private:
  Endpoint() = default;
  int port_ = 0;
  std::vector<std::shared_ptr<prometheus::Collectable>> extra_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace icr::metrics
