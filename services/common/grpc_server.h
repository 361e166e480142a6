// What every icr gRPC server has: TLS or mutual TLS when configured, the health service,
// reflection and the access log.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace icr {

// Request metadata a call may carry (keys and values, plus HPACK's 32 bytes an entry, as gRPC
// counts it); CheckMetadataSize refuses more with RESOURCE_EXHAUSTED.
constexpr size_t kMaxMetadataBytes = size_t{8} << 10;
// What the transport reads (GRPC_ARG_MAX_METADATA_SIZE), far above kMaxMetadataBytes: gRPC 1.51
// treats metadata over the transport's limit as an error of the whole HTTP/2 connection and
// closes it, failing the caller's other calls on it, so the refusal is left to
// CheckMetadataSize. Metadata larger still closes the connection.
constexpr int kMaxTransportMetadataBytes = 1 << 20;

// RESOURCE_EXHAUSTED when the call's metadata exceeds kMaxMetadataBytes.
absl::Status CheckMetadataSize(const grpc::ServerContextBase& ctx);

struct TlsFiles {
  std::string cert;       // PEM server certificate chain; empty = plaintext
  std::string key;        // PEM private key
  std::string client_ca;  // PEM CA bundle; set = clients must present a certificate it signed
};

// Server credentials for the files given, or an error naming the file that could not be read.
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const TlsFiles& tls,
                                                               std::string* error);

// Channel credentials for a client: TLS when ca (or client cert) is given, else insecure.
std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const std::string& ca_file,
                                                                 const std::string& cert_file,
                                                                 const std::string& key_file,
                                                                 std::string* error);

// Reads a whole file; false when it cannot.
bool ReadFile(const std::string& path, std::string* out);

// Call before creating the ServerBuilder: enables health and reflection, and gives database
// calls made by a handler its caller's deadline (SetCallDeadline).
void EnableStandardServices();

}  // namespace icr
