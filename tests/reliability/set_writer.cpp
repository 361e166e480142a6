// The writer of the Jepsen "set" check (tests/reliability/failover_set_check.sh): WORKERS
// threads, each with its own person and channel, record one event at a time through icr-server
// (RecordService.RecordEvents), every event with an id never used before (its idempotency key),
// until SIGTERM. Each worker logs to OUT.wN.log, one line per step, flushed at once:
//   invoke ID       before the call
//   ok ID           the service answered OK and stored the event (acknowledged)
//   info ID CODE    any other answer (indeterminate: the event may or may not be stored)
// The checker compares these with the event ids stored in the database afterwards.
//
// usage: set_writer HOST:PORT TOKEN_FILE WORKERS OUT
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "icr/v1/record.grpc.pb.h"
#include "services/common/validation.h"
#include "tests/support/builders.h"

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop = true; }

constexpr auto kDeadline = std::chrono::seconds(5);

std::unique_ptr<grpc::ClientContext> Context(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->set_deadline(std::chrono::system_clock::now() + kDeadline);
  return ctx;
}

// The n-th valid NHS number of the 999 test range from a fixed start.
std::string NhsNumber(int n) {
  for (long long candidate = 9990001000LL;; ++candidate) {
    if (icr::NhsNumberChecksumOk(std::to_string(candidate)) && n-- == 0) {
      return std::to_string(candidate);
    }
  }
}

void Worker(const std::string& target, const std::string& token, int worker,
            const std::string& out) {
  auto stub = icr::v1::RecordService::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  const std::string nhs = NhsNumber(worker);
  FILE* log = std::fopen((out + ".w" + std::to_string(worker) + ".log").c_str(), "w");
  if (!log) {
    std::perror(out.c_str());
    std::exit(1);
  }
  // The worker's person first (not part of the set), retried until the service takes it.
  icr::v1::UpsertPersonRequest person;
  *person.mutable_person() = icr::build::MakePerson(nhs);
  for (;;) {
    icr::v1::Person stored;
    grpc::Status s = stub->UpsertPerson(Context(token).get(), person, &stored);
    if (s.ok()) break;
    if (g_stop) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (long i = 1; !g_stop; ++i) {
    const std::string id = "set-" + std::to_string(worker) + "-" + std::to_string(i);
    std::fprintf(log, "invoke %s\n", id.c_str());
    std::fflush(log);
    icr::v1::RecordEventsRequest req;
    *req.add_events() = icr::build::EmploymentStatus(nhs, id, "01", "2026-01-15");
    icr::v1::RecordEventsResponse resp;
    grpc::Status s = stub->RecordEvents(Context(token).get(), req, &resp);
    const bool stored = s.ok() && resp.outcomes_size() == 1 &&
                        (resp.outcomes(0).result() == icr::v1::EventOutcome::STORED ||
                         resp.outcomes(0).result() == icr::v1::EventOutcome::DUPLICATE);
    if (stored) {
      std::fprintf(log, "ok %s\n", id.c_str());
    } else {
      std::fprintf(log, "info %s %d\n", id.c_str(), s.ok() ? -1 : static_cast<int>(s.error_code()));
    }
    std::fflush(log);
    if (!stored) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::fclose(log);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: set_writer HOST:PORT TOKEN_FILE WORKERS OUT\n";
    return 2;
  }
  std::string token;
  std::ifstream(argv[2]) >> token;
  const int workers = std::atoi(argv[3]);
  if (token.empty() || workers < 1) {
    std::cerr << "set_writer: need a token in TOKEN_FILE and WORKERS >= 1\n";
    return 2;
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) threads.emplace_back(Worker, argv[1], token, w, argv[4]);
  for (auto& t : threads) t.join();
  return 0;
}
