// The connection to the icr services: channel credentials (plaintext, TLS or mutual TLS) and
// the per-call metadata every RPC carries (token, purpose of use, break-glass, request id).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "clients/icrctl/cli.h"
#include "icr/v1/record.grpc.pb.h"

namespace icrctl {

inline constexpr std::chrono::seconds kUnaryDeadline{30};
inline constexpr std::chrono::seconds kNoDeadline{0};

class Client {
 public:
  // Fails (UNAUTHENTICATED) without a token, or when a TLS file cannot be read.
  explicit Client(const Globals& globals);

  icr::v1::RecordService::Stub& record() { return *record_; }
  // For stubs of the other services.
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  // Adds the metadata of one call and, unless `deadline` is kNoDeadline, its deadline.
  void Prepare(grpc::ClientContext& ctx, std::chrono::seconds deadline = kUnaryDeadline) const;

 private:
  Globals globals_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<icr::v1::RecordService::Stub> record_;
};

// A fresh id for x-request-id (a random UUID, version 4).
std::string NewRequestId();

}  // namespace icrctl
