// Whether this process should get traffic, for probes and load balancers. Liveness ("" and
// "liveness") is SERVING while the process runs. Readiness, asked by a hosted service's full
// name (icr.v1.RecordService, ...), is NOT_SERVING while the server drains for shutdown and
// while the database does not answer (checked once a second). Served on the main port by gRPC's
// default health service and on the plaintext health-only port (--health-listen) by
// HealthOnlyServer; other names are NOT_FOUND.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/db.h"

namespace icr {

class ServingState {
 public:
  enum class Answer { kServing, kNotServing, kUnknownName };

  // services: the full names of the hosted gRPC services. main: the main server's default
  // health service, kept in step (may be null).
  ServingState(Database& db, std::vector<std::string> services,
               grpc::HealthCheckServiceInterface* main);
  // Stops the database check.
  ~ServingState();
  ServingState(const ServingState&) = delete;
  ServingState& operator=(const ServingState&) = delete;

  // Readiness NOT_SERVING from now on (shutdown begins).
  void Drain();
  // Ends the database check and open Watch streams (the health server is about to stop).
  void Stop();
  bool stopped() const { return stop_.load(); }

  Answer Check(const std::string& service) const;

 private:
  void Loop();
  bool Ready() const { return !draining_ && database_ok_; }
  // Copies readiness into the main port's health service.
  void Publish();

  Database& db_;
  const std::vector<std::string> services_;
  grpc::HealthCheckServiceInterface* main_;
  std::atomic<bool> draining_{false};
  std::atomic<bool> database_ok_{true};  // the caller has just reached it (reference data)
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
};

// A plaintext gRPC server on `listen` ("host:port", port 0 = any free one) with nothing but
// grpc.health.v1.Health answering from `state`: app RPCs and reflection are UNIMPLEMENTED there.
class HealthOnlyServer {
 public:
  // INVALID_ARGUMENT naming --health-listen for a malformed address, UNAVAILABLE when it
  // cannot be bound.
  static absl::StatusOr<std::unique_ptr<HealthOnlyServer>> Start(const std::string& listen,
                                                                 ServingState& state);
  ~HealthOnlyServer();
  int port() const { return port_; }
  void Shutdown();

 private:
  HealthOnlyServer() = default;
  int port_ = 0;
  ServingState* state_ = nullptr;
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace icr
