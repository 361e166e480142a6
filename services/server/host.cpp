#include "services/server/host.h"

#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <thread>

#include "services/careplan/careplan_service.h"
#include "services/common/health.h"
#include "services/common/logging.h"
#include "services/common/metrics.h"
#include "services/common/reference_loader.h"
#include "services/common/status.h"
#include "services/fhir/export_jobs.h"
#include "services/fhir/fhir_api.h"
#include "services/fhir/http_server.h"
#include "services/performance/dashboard.h"
#include "services/performance/performance_service.h"
#include "services/record/record_service.h"
#include "services/s117/s117_service.h"

namespace icr {

const std::set<std::string>& KnownServices() {
  static const std::set<std::string> kServices = {"record", "careplan", "performance", "s117"};
  return kServices;
}

absl::StatusOr<std::set<std::string>> ParseServiceList(const std::string& list) {
  std::set<std::string> out;
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name.empty()) continue;
    if (name == "all") {
      out.insert(KnownServices().begin(), KnownServices().end());
    } else if (KnownServices().count(name)) {
      out.insert(name);
    } else {
      std::string known;
      for (const auto& k : KnownServices()) known += k + ", ";
      return InvalidField("services", "unknown service '" + name + "' (known: " + known + "all)");
    }
  }
  if (out.empty()) return InvalidField("services", "no services to host");
  return out;
}

absl::StatusOr<std::unique_ptr<Host>> Host::Start(Database& db, const HostOptions& options) {
  std::string error;
  auto creds = MakeServerCredentials(options.tls, &error);
  if (!creds) return absl::InvalidArgumentError(error);
  auto ref = LoadReferenceData(db);
  if (!ref.ok()) {
    return absl::FailedPreconditionError("cannot load reference data (is the database migrated?): " +
                                         std::string(ref.status().message()));
  }
  std::unique_ptr<Host> host(new Host());
  host->auth_ = std::make_unique<Authenticator>(db, options.auth_failure_limit);
  host->singletons_ = std::make_unique<Singletons>(db.url());

  EnableStandardServices();
  grpc::ServerBuilder builder;
  // Handlers block on the database, so keep more threads polling for new calls than gRPC's
  // default (1 to 2): measured 3,700 -> 4,200 GetIntegratedRecord/s at 8 callers (icr-bench).
  // A thread that finishes a call while MAX_POLLERS others poll exits, and one is created when
  // fewer than MIN_POLLERS poll: with a maximum of 8, icr-bench's read phase at 8 callers made
  // the server create and end about 400 threads a second (thread creation is costly on these
  // virtual machines). Spare threads end after 10 s idle (gRPC's CQ_TIMEOUT_MSEC).
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 4);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 64);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, kMaxTransportMetadataBytes);
  if (options.max_connection_age.count() > 0) {
    builder.AddChannelArgument(
        GRPC_ARG_MAX_CONNECTION_AGE_MS,
        static_cast<int>(std::chrono::milliseconds(options.max_connection_age).count()));
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               static_cast<int>(std::chrono::milliseconds(kConnectionAgeGrace).count()));
  }
  // gRPC sets SO_REUSEPORT by default, so a second server on a port in use would share it
  // silently (calls split between two processes, perhaps over two databases): refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.listen, creds, &host->port_);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(MakeAccessLogFactory(host->auth_.get()));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  // The metrics endpoint first, so that the interceptor counts from the first call.
  if (!options.metrics_listen.empty()) {
    std::vector<std::pair<std::string, Database*>> pools = {{"primary", &db}};
    if (options.read_db) pools.emplace_back("read", options.read_db);
    ASSIGN_OR_RETURN(host->metrics_,
                     metrics::Endpoint::Start(options.metrics_listen,
                                              {metrics::PoolCollectable(pools),
                                               metrics::FeedCollectable(db)}));
  }
  std::vector<std::string> names;  // full names, for readiness
  if (options.services.count("record")) {
    names.push_back(icr::v1::RecordService::service_full_name());
    host->services_.push_back(
        std::make_unique<record::RecordServiceImpl>(db, *host->auth_, *ref,
                                                   options.record_cache_bytes));
  }
  perf::PerformanceServiceImpl* performance = nullptr;
  if (options.services.count("performance")) {
    names.push_back(icr::v1::PerformanceService::service_full_name());
    auto service = std::make_unique<perf::PerformanceServiceImpl>(
        db, options.read_db ? *options.read_db : db, *host->auth_, *ref, options.national_store);
    performance = service.get();
    if (options.kpi_refresh.count() > 0) {
      host->singletons_->Compete(perf::kRefreshWork);
      performance->StartScheduledRefresh(options.kpi_refresh,
                                         host->singletons_->Gate(perf::kRefreshWork));
    }
    host->services_.push_back(std::move(service));
  }
  if (options.services.count("careplan")) {
    names.push_back(icr::v1::CarePlanService::service_full_name());
    host->services_.push_back(
        std::make_unique<careplan::CarePlanServiceImpl>(db, *host->auth_, *ref));
  }
  if (options.services.count("s117")) {
    names.push_back(icr::v1::S117RegisterService::service_full_name());
    host->singletons_->Compete(s117::kFollowerWork);
    if (options.succession_every.count() > 0) host->singletons_->Compete(s117::kSuccessionWork);
    host->services_.push_back(std::make_unique<s117::S117ServiceImpl>(
        db, *host->auth_, *ref, host->singletons_->Gate(s117::kFollowerWork),
        options.succession_every, host->singletons_->Gate(s117::kSuccessionWork)));
  }
  host->singletons_->Start();
  for (auto& s : host->services_) builder.RegisterService(s.get());
  host->server_ = builder.BuildAndStart();
  if (!host->server_ || host->port_ == 0) {
    return absl::UnavailableError("cannot listen on " + options.listen);
  }
  if (performance && !options.dashboard_listen.empty()) {
    host->dashboard_ = std::make_unique<perf::DashboardServer>(*performance, *ref);
    RETURN_IF_ERROR(host->dashboard_->Start(options.dashboard_listen));
  }
  if (options.services.count("record") && !options.fhir_listen.empty()) {
    // The FHIR API calls the services hosted here through an in-process channel, so every
    // request meets the same access rule, audit and validation as a gRPC call.
    grpc::ChannelArguments args;
    host->exports_ =
        std::make_unique<fhir::ExportJobs>(db, options.export_dir, options.export_keep);
    host->exports_->Start();
    host->fhir_api_ = std::make_unique<fhir::FhirApi>(host->server_->InProcessChannel(args),
                                                      *host->auth_, *ref, host->exports_.get());
    fhir::FhirServerOptions fhir_options;
    fhir_options.listen = options.fhir_listen;
    fhir_options.tls = options.tls;
    fhir_options.base_url = options.fhir_base_url;
    fhir_options.threads = options.fhir_threads;
    host->fhir_ = std::make_unique<fhir::FhirServer>(*host->fhir_api_, fhir_options);
    RETURN_IF_ERROR(host->fhir_->Start());
  }
  host->drain_ = options.drain;
  host->shutdown_deadline_ = options.shutdown_deadline;
  host->serving_ = std::make_unique<ServingState>(db, std::move(names),
                                                  host->server_->GetHealthCheckService());
  if (!options.health_listen.empty()) {
    ASSIGN_OR_RETURN(host->health_,
                     HealthOnlyServer::Start(options.health_listen, *host->serving_));
  }
  return host;
}

int Host::dashboard_port() const { return dashboard_ ? dashboard_->port() : 0; }

int Host::fhir_port() const { return fhir_ ? fhir_->port() : 0; }

int Host::health_port() const { return health_ ? health_->port() : 0; }

int Host::metrics_port() const { return metrics_ ? metrics_->port() : 0; }

void Host::Shutdown() {
  if (shut_down_) return;  // once (main, then the destructor)
  shut_down_ = true;
  if (server_) {
    if (serving_) {
      spdlog::info("shutdown: readiness NOT_SERVING, draining for {} ms", drain_.count());
      serving_->Drain();
      std::this_thread::sleep_for(drain_);
    }
    spdlog::info("shutdown: stopping the gRPC server (calls in flight get {} ms)",
                 shutdown_deadline_.count());
    server_->Shutdown(std::chrono::system_clock::now() + shutdown_deadline_);
  }
  if (dashboard_ || fhir_) spdlog::info("shutdown: stopping the HTTP servers");
  if (dashboard_) dashboard_->Stop();
  if (fhir_) fhir_->Stop();
  if (exports_) exports_->Stop();
  if (server_) {
    server_.reset();
    // The services' background work (S117 follower, indicator refresh) stops with them.
    services_.clear();
    singletons_->Stop();  // releases the leases, for another replica to take at once
    if (health_) health_->Shutdown();
    serving_.reset();
    spdlog::info("shutdown: done");
  }
}

Host::~Host() { Shutdown(); }

}  // namespace icr
