#include "clients/icrctl/client.h"

#include <cstdio>
#include <random>

#include "services/common/grpc_server.h"

namespace icrctl {

Client::Client(const Globals& globals) : globals_(globals) {
  if (globals_.token.empty()) {
    throw Failure("UNAUTHENTICATED: no token: pass --token or set ICR_TOKEN");
  }
  std::string error;
  auto creds = icr::MakeChannelCredentials(globals_.tls_ca, globals_.tls_cert, globals_.tls_key,
                                           &error);
  if (!creds) throw Failure(error, kExitUsage);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  channel_ = grpc::CreateCustomChannel(globals_.server, creds, args);
  record_ = icr::v1::RecordService::NewStub(channel_);
}

void Client::Prepare(grpc::ClientContext& ctx, std::chrono::seconds deadline) const {
  ctx.AddMetadata("authorization", "Bearer " + globals_.token);
  if (!globals_.purpose.empty()) ctx.AddMetadata("x-purpose-of-use", globals_.purpose);
  if (!globals_.break_glass.empty()) ctx.AddMetadata("x-break-glass-reason", globals_.break_glass);
  ctx.AddMetadata("x-request-id", NewRequestId());
  if (deadline != kNoDeadline) ctx.set_deadline(std::chrono::system_clock::now() + deadline);
}

std::string NewRequestId() {
  static std::mt19937_64 rng{std::random_device{}()};
  const uint64_t hi = rng(), lo = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xfff),
                static_cast<unsigned>(0x8000 | ((lo >> 48) & 0x3fff)),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

}  // namespace icrctl
