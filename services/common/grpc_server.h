// What every icr gRPC server has: TLS or mutual TLS when configured, the health service,
// reflection and the access log.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace icr {

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

// Call before creating the ServerBuilder: enables health and reflection.
void EnableStandardServices();

}  // namespace icr
