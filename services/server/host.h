// Assembles an icr gRPC server: the chosen services over one database, with health,
// reflection, the access log and TLS as configured. Used by icr-server and by the tests.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/common/grpc_server.h"
#include "services/common/singleton.h"

namespace icr {
class HealthOnlyServer;
class ServingState;
namespace metrics {
class Endpoint;
}
namespace perf {
class DashboardServer;
}
namespace fhir {
class ExportJobs;
class FhirApi;
class FhirServer;
}

// Service names icr-server knows, for --services.
const std::set<std::string>& KnownServices();

// Parses "record,careplan" or "all"; INVALID_ARGUMENT names an unknown service.
absl::StatusOr<std::set<std::string>> ParseServiceList(const std::string& list);

struct HostOptions {
  std::string listen = "127.0.0.1:0";
  std::set<std::string> services;
  TlsFiles tls;
  // Where the reads that write no audit row go (the performance service's dashboards, series,
  // CSV and recompute reads), e.g. a pool on a streaming replica (--database-read-url); null =
  // the database every other call uses.
  Database* read_db = nullptr;
  // The HTTP dashboard ("host:port", port 0 = any free one), served when the performance
  // service is hosted; empty = no dashboard.
  std::string dashboard_listen;
  // Recompute the previous and current month's indicators this often (0 = only on request).
  std::chrono::seconds kpi_refresh{0};
  // Apply the organisation successions due (s117::SuccessionRunner) at start and then this
  // often, in the replica holding the singleton work (0 = only on request).
  std::chrono::seconds succession_every{0};
  // Integrated-record bodies kept in memory (record::RecordCache).
  size_t record_cache_bytes = size_t{64} << 20;
  // The store holds every organisation in England: figures for all organisations are
  // England-level totals and shown unrounded. Otherwise (a regional store) they are shared
  // figures under the disclosure rule like any organisation's (perf::SelectPolicy).
  bool national_store = false;
  // Failed authentications from one address within a minute before it is refused for a minute
  // (FailedAuthThrottle; 0: no throttle).
  int auth_failure_limit = FailedAuthThrottle::kMaxFailures;
  // The FHIR API over HTTP ("host:port"; empty = none), served when the record service is
  // hosted, with the gRPC server's TLS files. base_url: what links say (empty: from the Host
  // header); threads: requests served at once.
  std::string fhir_listen;
  std::string fhir_base_url;
  int fhir_threads = 64;
  // Bulk export files: where they are kept, and for how long after a job is started.
  std::string export_dir = "var/export";
  std::chrono::seconds export_keep{24 * 3600};
  // The plaintext health-only gRPC port for probes ("host:port"; empty = none): health.h.
  std::string health_listen;
  // Prometheus metrics over HTTP at /metrics ("host:port"; empty = none): metrics.h.
  std::string metrics_listen;
  // Connections older than this are closed (GOAWAY, then a grace of kConnectionAgeGrace for the
  // calls on them), so that round_robin clients re-resolve and see new replicas (0 = never).
  std::chrono::seconds max_connection_age{0};
  // Shutdown: readiness NOT_SERVING for `drain` (load balancers and clients turn away), then the
  // calls in flight get up to `shutdown_deadline` before they are cancelled.
  std::chrono::milliseconds drain{0};
  std::chrono::milliseconds shutdown_deadline{5000};
};

// Calls on a connection past max_connection_age get this long to finish.
inline constexpr std::chrono::seconds kConnectionAgeGrace{30};

class Host {
 public:
  // Loads reference data and starts serving; the database must be migrated.
  static absl::StatusOr<std::unique_ptr<Host>> Start(Database& db, const HostOptions& options);
  ~Host();

  int port() const { return port_; }
  // The dashboard's HTTP port; 0 when no dashboard is served.
  int dashboard_port() const;
  // The FHIR server's HTTP port; 0 when it is not served.
  int fhir_port() const;
  // The health-only and metrics ports; 0 when not served.
  int health_port() const;
  int metrics_port() const;
  grpc::Server* server() { return server_.get(); }
  // The singleton work this process competes for and holds (services/common/singleton.h).
  const Singletons& singletons() const { return *singletons_; }
  // Readiness NOT_SERVING, the drain delay, then the gRPC server stops (calls in flight get the
  // shutdown deadline), then the HTTP servers and background work; each step is logged.
  void Shutdown();

 private:
  Host() = default;
  int port_ = 0;
  std::chrono::milliseconds drain_{0};
  std::chrono::milliseconds shutdown_deadline_{5000};
  bool shut_down_ = false;
  std::unique_ptr<Authenticator> auth_;
  // Before services_: destroyed after them, so the leases are released only once the work
  // that needs them has stopped.
  std::unique_ptr<Singletons> singletons_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<perf::DashboardServer> dashboard_;
  std::unique_ptr<fhir::ExportJobs> exports_;
  std::unique_ptr<fhir::FhirApi> fhir_api_;
  std::unique_ptr<fhir::FhirServer> fhir_;
  std::unique_ptr<ServingState> serving_;
  std::unique_ptr<HealthOnlyServer> health_;
  std::unique_ptr<metrics::Endpoint> metrics_;
};

}  // namespace icr
