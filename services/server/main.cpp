// icr-server: hosts any set of the icr gRPC services in one process.
#include <algorithm>
#include <cxxopts.hpp>
#include <spdlog/spdlog.h>

#include <cmath>
#include <csignal>
#include <iostream>
#include <memory>
#include <thread>

#include "services/common/config.h"
#include "services/common/db.h"
#include "services/common/logging.h"
#include "services/common/auth.h"
#include "services/common/migrations.h"
#include "services/server/host.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int sig) { g_stop = sig; }
}  // namespace

int main(int argc, char** argv) {
  icr::DisableMutexDeadlockDetection();
  cxxopts::Options options("icr-server",
                           "Integrated care record and S117 register: gRPC services over one "
                           "PostgreSQL store.\nEvery flag can also be set as ICR_<FLAG> in the "
                           "environment (e.g. ICR_DATABASE_URL); the flag wins.");
  // clang-format off
  options.add_options()
    ("listen", "gRPC listen address", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_LISTEN", "127.0.0.1:50051")))
    ("services", "comma-separated services to host: record, or all", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_SERVICES", "all")))
    ("database-url", "PostgreSQL connection URL", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_DATABASE_URL", "")))
    ("database-read-url", "PostgreSQL connection URL for the reads that write no audit row (the performance service's dashboards, series, CSV and recompute reads), e.g. a replica with a fallback: host=replica,primary port=5432,5432 target_session_attrs=prefer-standby (default: --database-url)", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_DATABASE_READ_URL", "")))
    ("dashboard-listen", "HTTP address of the performance dashboard (served with the performance service); off disables it", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_DASHBOARD_LISTEN", "127.0.0.1:8080")))
    ("fhir-listen", "HTTP address of the FHIR R4 API (base path /fhir; HTTPS with the --tls-* files), served with the record service; off disables it", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_FHIR_LISTEN", "127.0.0.1:8081")))
    ("fhir-base-url", "the FHIR base URL links and bulk export manifests carry, e.g. https://icr.example.org/fhir (default: from each request's Host header)", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_FHIR_BASE_URL", "")))
    ("fhir-threads", "FHIR requests served at once (worker threads; idle kept-alive connections hold none)", cxxopts::value<int>()->default_value(icr::EnvOr("ICR_FHIR_THREADS", "64")))
    ("export-dir", "folder for bulk export files", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_EXPORT_DIR", "var/export")))
    ("export-keep-hours", "hours a bulk export's files are kept after it was started", cxxopts::value<int>()->default_value(icr::EnvOr("ICR_EXPORT_KEEP_HOURS", "24")))
    ("pool-size", "database connections", cxxopts::value<int>()->default_value(icr::EnvOr("ICR_POOL_SIZE", "8")))
    ("database-timeout", "seconds a database call may take, waiting for a connection included, before it fails UNAVAILABLE (a caller's earlier gRPC deadline ends it first, DEADLINE_EXCEEDED)", cxxopts::value<double>()->default_value(icr::EnvOr("ICR_DATABASE_TIMEOUT", "5")))
    ("migrate", "apply database migrations before serving", cxxopts::value<bool>()->default_value("false"))
    ("tls-cert", "PEM certificate chain (enables TLS)", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_TLS_CERT", "")))
    ("tls-key", "PEM private key", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_TLS_KEY", "")))
    ("tls-client-ca", "PEM CA bundle; clients must present a certificate it signed (mutual TLS)", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_TLS_CLIENT_CA", "")))
    ("kpi-refresh", "recompute the previous and current month's indicators every N seconds (0: only on request)", cxxopts::value<int>()->default_value(icr::EnvOr("ICR_KPI_REFRESH", "0")))
    ("succession-every", "with the s117 service: apply the organisation successions due (reference data) at start and then every N seconds, in one replica at a time (0: only on request, ApplySuccessions)", cxxopts::value<int>()->default_value(icr::EnvOr("ICR_SUCCESSION_EVERY", "3600")))
    ("national-store", "the store holds every organisation in England: figures for all organisations are England-level totals, shown unrounded (otherwise they are rounded and suppressed like any organisation's)", cxxopts::value<bool>()->default_value(icr::EnvOr("ICR_NATIONAL_STORE", "false")))
    ("token-pepper-file", "file holding the token pepper (at least 32 bytes; trailing newline ignored): tokens are then stored as HMAC-SHA256(pepper, token) instead of SHA-256(token), so a copy of the database cannot test guessed tokens; the same on every replica and for icrctl admin token; adding or changing it invalidates every token issued before (default: none)", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_TOKEN_PEPPER_FILE", "")))
    ("auth-failure-limit", "failed authentications from one address within a minute before it is refused for a minute (0: no throttle)", cxxopts::value<int>()->default_value(icr::EnvOr("ICR_AUTH_FAILURE_LIMIT", "20")))
    ("record-cache-mb", "integrated-record bodies kept in memory, in MB (0: none; each read still checks visibility and writes its audit row in the store)", cxxopts::value<int>()->default_value(icr::EnvOr("ICR_RECORD_CACHE_MB", "64")))
    ("health-listen", "address of a plaintext gRPC port serving only grpc.health.v1.Health, for probes (\"\" and liveness: the process runs; each hosted service's full name, e.g. icr.v1.RecordService: ready, i.e. not draining and the database answers); empty: none", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_HEALTH_LISTEN", "")))
    ("metrics-listen", "HTTP address (IP:port) serving Prometheus metrics at /metrics; empty: none", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_METRICS_LISTEN", "")))
    ("drain-seconds", "on SIGTERM or SIGINT, seconds readiness reports NOT_SERVING before the server stops taking calls", cxxopts::value<double>()->default_value(icr::EnvOr("ICR_DRAIN_SECONDS", "2")))
    ("shutdown-seconds", "then, seconds calls in flight get to finish before they are cancelled", cxxopts::value<double>()->default_value(icr::EnvOr("ICR_SHUTDOWN_SECONDS", "5")))
    ("max-connection-age", "seconds after which a client connection is closed (GOAWAY; calls on it get 30 s more), so round_robin clients re-resolve and reach new replicas; streams such as WatchChanges end then and resume from their cursor (0: never)", cxxopts::value<int>()->default_value(icr::EnvOr("ICR_MAX_CONNECTION_AGE", "300")))
    ("log-level", "trace, debug, info, warn, error", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_LOG_LEVEL", "info")))
    ("log-format", "text, or json (one object a line: ts, level, msg; the access log adds rpc.system, rpc.service, rpc.method, rpc.grpc.status_code, duration_ms, org and request_id)", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_LOG_FORMAT", "text")))
    ("h,help", "show this help");
  // clang-format on
  cxxopts::ParseResult args;
  try {
    args = options.parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "icr-server: " << e.what() << "\n";
    return 2;
  }
  if (args.count("help")) {
    std::cout << options.help() << std::endl;
    return 0;
  }
  if (auto logging =
          icr::InitLogging(args["log-level"].as<std::string>(), args["log-format"].as<std::string>());
      !logging.ok()) {
    std::cerr << "icr-server: " << logging.message() << "\n";
    return 2;
  }
  const std::string url = args["database-url"].as<std::string>();
  if (url.empty()) {
    std::cerr << "icr-server: --database-url (or ICR_DATABASE_URL) is required\n";
    return 2;
  }
  if (auto pepper = icr::LoadTokenPepper(args["token-pepper-file"].as<std::string>());
      !pepper.ok()) {
    std::cerr << "icr-server: " << pepper.message() << "\n";
    return 2;
  }
  auto services = icr::ParseServiceList(args["services"].as<std::string>());
  if (!services.ok()) {
    std::cerr << "icr-server: " << services.status().message() << "\n";
    return 2;
  }
  if (args["migrate"].as<bool>()) {
    auto applied = icr::ApplyMigrations(url);
    if (!applied.ok()) {
      std::cerr << "icr-server: " << applied.status().message() << "\n";
      return 1;
    }
  }
  const double database_timeout = args["database-timeout"].as<double>();
  if (!(database_timeout >= 0.001)) {  // statement_timeout 0 would mean none
    std::cerr << "icr-server: --database-timeout must be at least 0.001 seconds\n";
    return 2;
  }
  const auto call_timeout = std::chrono::milliseconds(std::llround(database_timeout * 1000));
  icr::Database db(url, args["pool-size"].as<int>(), call_timeout);
  icr::HostOptions host_options;
  const std::string read_url = args["database-read-url"].as<std::string>();
  std::unique_ptr<icr::Database> read_db;
  if (!read_url.empty()) {
    auto reads = icr::DescribeConnection(read_url);
    if (!reads.ok()) {
      std::cerr << "icr-server: --database-read-url: " << reads.status().message() << "\n";
      return 2;
    }
    read_db = std::make_unique<icr::Database>(read_url, args["pool-size"].as<int>(), call_timeout);
    host_options.read_db = read_db.get();
    spdlog::info("performance reads (dashboards, series, CSV, recompute reads) go to {}", *reads);
  }
  host_options.listen = args["listen"].as<std::string>();
  host_options.services = *services;
  host_options.tls = {args["tls-cert"].as<std::string>(), args["tls-key"].as<std::string>(),
                      args["tls-client-ca"].as<std::string>()};
  host_options.dashboard_listen = args["dashboard-listen"].as<std::string>();
  host_options.kpi_refresh = std::chrono::seconds(args["kpi-refresh"].as<int>());
  host_options.succession_every = std::chrono::seconds(args["succession-every"].as<int>());
  host_options.national_store = args["national-store"].as<bool>();
  host_options.auth_failure_limit = std::max(0, args["auth-failure-limit"].as<int>());
  if (args["record-cache-mb"].as<int>() < 0) {
    std::cerr << "icr-server: --record-cache-mb must not be negative\n";
    return 2;
  }
  host_options.record_cache_bytes = static_cast<size_t>(args["record-cache-mb"].as<int>()) << 20;
  if (host_options.dashboard_listen == "off") host_options.dashboard_listen.clear();
  host_options.fhir_listen = args["fhir-listen"].as<std::string>();
  if (host_options.fhir_listen == "off") host_options.fhir_listen.clear();
  host_options.fhir_base_url = args["fhir-base-url"].as<std::string>();
  while (!host_options.fhir_base_url.empty() && host_options.fhir_base_url.back() == '/') {
    host_options.fhir_base_url.pop_back();
  }
  host_options.fhir_threads = args["fhir-threads"].as<int>();
  if (host_options.fhir_threads < 1 || host_options.fhir_threads > 4096) {
    std::cerr << "icr-server: --fhir-threads must be from 1 to 4096\n";
    return 2;
  }
  host_options.export_dir = args["export-dir"].as<std::string>();
  if (args["export-keep-hours"].as<int>() < 1) {
    std::cerr << "icr-server: --export-keep-hours must be at least 1\n";
    return 2;
  }
  host_options.export_keep = std::chrono::hours(args["export-keep-hours"].as<int>());
  host_options.health_listen = args["health-listen"].as<std::string>();
  host_options.metrics_listen = args["metrics-listen"].as<std::string>();
  const double drain = args["drain-seconds"].as<double>();
  const double shutdown = args["shutdown-seconds"].as<double>();
  if (!(drain >= 0 && drain <= 600) || !(shutdown >= 0 && shutdown <= 600)) {
    std::cerr << "icr-server: --drain-seconds and --shutdown-seconds must be from 0 to 600\n";
    return 2;
  }
  host_options.drain = std::chrono::milliseconds(std::llround(drain * 1000));
  host_options.shutdown_deadline = std::chrono::milliseconds(std::llround(shutdown * 1000));
  const int max_age = args["max-connection-age"].as<int>();
  if (max_age < 0 || max_age > 1000000) {
    std::cerr << "icr-server: --max-connection-age must be from 0 to 1000000 seconds\n";
    return 2;
  }
  host_options.max_connection_age = std::chrono::seconds(max_age);
  auto host = icr::Host::Start(db, host_options);
  if (!host.ok()) {
    std::cerr << "icr-server: " << host.status().message() << "\n";
    return 1;
  }
  std::string hosted;
  for (const auto& s : *services) hosted += (hosted.empty() ? "" : ",") + s;
  spdlog::info(
      "icr-server listening on {} (port {}), services={}, tls={}, store={}, token_pepper={}",
      host_options.listen, (*host)->port(), hosted, host_options.tls.cert.empty() ? "off" : "on",
      host_options.national_store ? "national" : "regional",
      args["token-pepper-file"].as<std::string>().empty() ? "off" : "on");
  // Every replica serves every RPC; the singleton work runs in whichever replica holds its lease.
  std::string competing;
  for (const auto& w : (*host)->singletons().Competing()) {
    competing += (competing.empty() ? "" : ",") + w;
  }
  spdlog::info("singleton work competed for: {} (lease {} s, holder {})",
               competing.empty() ? "none" : competing, icr::Singletons::kLeaseTtl.count(),
               (*host)->singletons().holder());
  if ((*host)->dashboard_port() != 0) {
    const std::string& dl = host_options.dashboard_listen;
    const std::string dhost = dl.substr(0, dl.rfind(':'));
    spdlog::info("dashboard on http://{}:{}/", dhost, (*host)->dashboard_port());
    if (dhost != "127.0.0.1" && dhost != "localhost" && dhost != "[::1]") {
      spdlog::warn(
          "the dashboard serves plain HTTP and its session cookie holds a bearer token: "
          "reach it from other machines only through a TLS proxy");
    }
  }

  if ((*host)->fhir_port() != 0) {
    const std::string& fl = host_options.fhir_listen;
    spdlog::info("FHIR API on {}://{}:{}/fhir", host_options.tls.cert.empty() ? "http" : "https",
                 fl.substr(0, fl.rfind(':')), (*host)->fhir_port());
  }

  if ((*host)->health_port() != 0) {
    const std::string& hl = host_options.health_listen;
    spdlog::info("health-only gRPC port (plaintext) on {}:{}", hl.substr(0, hl.rfind(':')),
                 (*host)->health_port());
  }
  if ((*host)->metrics_port() != 0) {
    const std::string& ml = host_options.metrics_listen;
    spdlog::info("metrics on http://{}:{}/metrics", ml.substr(0, ml.rfind(':')),
                 (*host)->metrics_port());
  }

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  spdlog::info("shutting down ({})", g_stop == SIGTERM ? "SIGTERM" : "SIGINT");
  (*host)->Shutdown();
  return 0;
}
