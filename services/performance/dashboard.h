// The performance dashboard over HTTP (cpp-httplib, one thread): server-rendered pages with
// inline SVG charts and a CSV download, for the same callers and with the same disclosure control
// as PerformanceService over gRPC. A bearer token is entered once at /login and kept in an
// HttpOnly cookie; every request authenticates it again through the Authenticator.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "services/common/reference.h"
#include "services/performance/performance_service.h"

namespace icr::perf {

class DashboardServer {
 public:
  DashboardServer(PerformanceServiceImpl& service, std::shared_ptr<const ReferenceData> ref);
  ~DashboardServer();
  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  // Binds `listen` ("host:port", port 0 picks a free one; "[::1]:8080" for IPv6) and serves on
  // a thread of its own. UNAVAILABLE when the address cannot be bound.
  absl::Status Start(const std::string& listen);
  // Stops serving and joins the thread; safe to call more than once.
  void Stop();
  // The bound port, 0 before Start.
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace icr::perf
