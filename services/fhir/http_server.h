// The FHIR API over HTTP (Boost.Beast: README, "Why Boost.Beast"): connections held on a few io
// threads without a thread each, requests under /fhir handed to FhirApi on a pool of worker
// threads, with keep-alive, the gRPC server's TLS files, and an access log without personal data.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "services/common/grpc_server.h"
#include "services/fhir/fhir_api.h"

namespace icr::fhir {

struct FhirServerOptions {
  std::string listen = "127.0.0.1:8081";  // "host:port"; port 0 picks a free one
  TlsFiles tls;                           // the gRPC server's: HTTPS when cert is set
  // The base URL links and Content-Location carry; empty: from the request's Host header.
  std::string base_url;
  int threads = 64;  // requests served at once (idle keep-alive connections hold none)
};

class FhirServer {
 public:
  FhirServer(FhirApi& api, FhirServerOptions options);
  ~FhirServer();
  FhirServer(const FhirServer&) = delete;
  FhirServer& operator=(const FhirServer&) = delete;

  // Binds and serves on threads of its own; INVALID_ARGUMENT for a bad address or TLS file,
  // UNAVAILABLE when the address cannot be bound.
  absl::Status Start();
  void Stop();  // safe to call more than once
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace icr::fhir
