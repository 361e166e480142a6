// icr-server: hosts any set of the icr gRPC services in one process.
#include <cxxopts.hpp>
#include <grpcpp/health_check_service_interface.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "services/common/auth.h"
#include "services/common/config.h"
#include "services/common/db.h"
#include "services/common/grpc_server.h"
#include "services/common/logging.h"
#include "services/common/migrations.h"
#include "services/common/reference.h"
#include "services/record/record_service.h"

namespace {

const std::set<std::string> kKnownServices = {"record"};

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

std::set<std::string> ParseServices(const std::string& list, std::string* error) {
  std::set<std::string> out;
  std::stringstream ss(list);
  std::string name;
  while (std::getline(ss, name, ',')) {
    if (name.empty()) continue;
    if (name == "all") {
      out.insert(kKnownServices.begin(), kKnownServices.end());
    } else if (kKnownServices.count(name)) {
      out.insert(name);
    } else {
      *error = "unknown service '" + name + "' (known: record, all)";
      return {};
    }
  }
  if (out.empty()) *error = "no services to host (--services record|all)";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  cxxopts::Options options("icr-server",
                           "Integrated care record and S117 register: gRPC services over one "
                           "PostgreSQL store.\nEvery flag can also be set as ICR_<FLAG> in the "
                           "environment (e.g. ICR_DATABASE_URL); the flag wins.");
  // clang-format off
  options.add_options()
    ("listen", "gRPC listen address", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_LISTEN", "127.0.0.1:50051")))
    ("services", "comma-separated services to host: record, or all", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_SERVICES", "all")))
    ("database-url", "PostgreSQL connection URL", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_DATABASE_URL", "")))
    ("pool-size", "database connections", cxxopts::value<int>()->default_value(icr::EnvOr("ICR_POOL_SIZE", "8")))
    ("migrate", "apply database migrations before serving", cxxopts::value<bool>()->default_value("false"))
    ("tls-cert", "PEM certificate chain (enables TLS)", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_TLS_CERT", "")))
    ("tls-key", "PEM private key", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_TLS_KEY", "")))
    ("tls-client-ca", "PEM CA bundle; clients must present a certificate it signed (mutual TLS)", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_TLS_CLIENT_CA", "")))
    ("log-level", "trace, debug, info, warn, error", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_LOG_LEVEL", "info")))
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
  icr::InitLogging(args["log-level"].as<std::string>());
  const std::string url = args["database-url"].as<std::string>();
  if (url.empty()) {
    std::cerr << "icr-server: --database-url (or ICR_DATABASE_URL) is required\n";
    return 2;
  }
  std::string error;
  auto services = ParseServices(args["services"].as<std::string>(), &error);
  if (!error.empty()) {
    std::cerr << "icr-server: " << error << "\n";
    return 2;
  }
  auto creds = icr::MakeServerCredentials({args["tls-cert"].as<std::string>(),
                                           args["tls-key"].as<std::string>(),
                                           args["tls-client-ca"].as<std::string>()},
                                          &error);
  if (!creds) {
    std::cerr << "icr-server: " << error << "\n";
    return 2;
  }
  if (args["migrate"].as<bool>()) {
    auto applied = icr::ApplyMigrations(url);
    if (!applied.ok()) {
      std::cerr << "icr-server: " << applied.status().message() << "\n";
      return 1;
    }
  }

  icr::Database db(url, args["pool-size"].as<int>());
  auto ref = icr::ReferenceData::Load(db);
  if (!ref.ok()) {
    std::cerr << "icr-server: cannot load reference data: " << ref.status().message()
              << " (is the database migrated? use --migrate)\n";
    return 1;
  }
  icr::Authenticator auth(db);

  icr::EnableStandardServices();
  grpc::ServerBuilder builder;
  int port = 0;
  const std::string listen = args["listen"].as<std::string>();
  builder.AddListeningPort(listen, creds, &port);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(icr::MakeAccessLogFactory(&auth));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));

  std::unique_ptr<icr::record::RecordServiceImpl> record;
  if (services.count("record")) {
    record = std::make_unique<icr::record::RecordServiceImpl>(db, auth, *ref);
    builder.RegisterService(record.get());
  }
  auto server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::cerr << "icr-server: cannot listen on " << listen << "\n";
    return 1;
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  std::string hosted;
  for (const auto& s : services) hosted += (hosted.empty() ? "" : ",") + s;
  spdlog::info("icr-server listening on {} (port {}), services={}, tls={}", listen, port, hosted,
               args["tls-cert"].as<std::string>().empty() ? "off" : "on");

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  spdlog::info("shutting down");
  server->GetHealthCheckService()->SetServingStatus(false);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return 0;
}
