#include "services/common/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <fstream>
#include <mutex>
#include <sstream>

#include "services/common/db.h"

namespace icr {
namespace {

// Hands each synchronous handler's thread its call's deadline, so that database calls made for
// the call end by then (SetCallDeadline).
class CallDeadlineCallbacks : public grpc::Server::GlobalCallbacks {
 public:
  void PreSynchronousRequest(grpc::ServerContext* context) override {
    SetCallDeadline(context->deadline());
  }
  void PostSynchronousRequest(grpc::ServerContext*) override { ClearCallDeadline(); }
};

}  // namespace

absl::Status CheckMetadataSize(const grpc::ServerContextBase& ctx) {
  size_t size = 0;
  for (const auto& [key, value] : ctx.client_metadata()) size += key.size() + value.size() + 32;
  if (size <= kMaxMetadataBytes) return absl::OkStatus();
  return absl::ResourceExhaustedError("request metadata of " + std::to_string(size) +
                                      " bytes exceeds the limit of " +
                                      std::to_string(kMaxMetadataBytes));
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const TlsFiles& tls,
                                                               std::string* error) {
  if (tls.cert.empty() && tls.key.empty()) {
    if (!tls.client_ca.empty()) {
      *error = "--tls-client-ca needs --tls-cert and --tls-key";
      return nullptr;
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  if (!ReadFile(tls.cert, &pair.cert_chain)) {
    *error = "cannot read --tls-cert " + tls.cert;
    return nullptr;
  }
  if (!ReadFile(tls.key, &pair.private_key)) {
    *error = "cannot read --tls-key " + tls.key;
    return nullptr;
  }
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back(pair);
  if (!tls.client_ca.empty()) {
    if (!ReadFile(tls.client_ca, &options.pem_root_certs)) {
      *error = "cannot read --tls-client-ca " + tls.client_ca;
      return nullptr;
    }
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const std::string& ca_file,
                                                                 const std::string& cert_file,
                                                                 const std::string& key_file,
                                                                 std::string* error) {
  if (ca_file.empty() && cert_file.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  if (!ca_file.empty() && !ReadFile(ca_file, &options.pem_root_certs)) {
    *error = "cannot read CA file " + ca_file;
    return nullptr;
  }
  if (!cert_file.empty()) {
    if (!ReadFile(cert_file, &options.pem_cert_chain) ||
        !ReadFile(key_file, &options.pem_private_key)) {
      *error = "cannot read client certificate or key";
      return nullptr;
    }
  }
  return grpc::SslCredentials(options);
}

void EnableStandardServices() {
  // Global callbacks can be set once per process, before the first server is built; the object
  // lives as long as the process.
  static std::once_flag once;
  std::call_once(once, [] { grpc::Server::SetGlobalCallbacks(new CallDeadlineCallbacks()); });
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
}

}  // namespace icr
