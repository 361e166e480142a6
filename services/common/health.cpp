#include "services/common/health.h"

#include <grpcpp/ext/health_check_service_server_builder_option.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "grpc/health/v1/health.grpc.pb.h"
#include "services/common/listen_address.h"
#include "services/common/sql/statements.h"

namespace icr {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr std::chrono::seconds kCheckEvery(1);
constexpr std::chrono::milliseconds kWatchPoll(200);

// Liveness names: SERVING while the process runs.
bool IsLiveness(const std::string& name) { return name.empty() || name == "liveness"; }

HealthCheckResponse::ServingStatus ToProto(ServingState::Answer a) {
  switch (a) {
    case ServingState::Answer::kServing:
      return HealthCheckResponse::SERVING;
    case ServingState::Answer::kNotServing:
      return HealthCheckResponse::NOT_SERVING;
    case ServingState::Answer::kUnknownName:
      break;
  }
  return HealthCheckResponse::SERVICE_UNKNOWN;
}

// The explicit Health implementation: a server with no registered service crashed when gRPC's
// default health service was used on it (grpc 1.51).
class ProbeHealth final : public grpc::health::v1::Health::Service {
 public:
  explicit ProbeHealth(const ServingState& state) : state_(state) {}

  grpc::Status Check(grpc::ServerContext*, const HealthCheckRequest* req,
                     HealthCheckResponse* resp) override {
    const auto answer = state_.Check(req->service());
    if (answer == ServingState::Answer::kUnknownName) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service");
    }
    resp->set_status(ToProto(answer));
    return grpc::Status::OK;
  }

  // Sends the status now and again whenever it changes, until the caller goes or the server
  // stops.
  grpc::Status Watch(grpc::ServerContext* ctx, const HealthCheckRequest* req,
                     grpc::ServerWriter<HealthCheckResponse>* writer) override {
    auto sent = HealthCheckResponse::UNKNOWN;
    while (!ctx->IsCancelled() && !state_.stopped()) {
      const auto now = ToProto(state_.Check(req->service()));
      if (now != sent) {
        HealthCheckResponse resp;
        resp.set_status(now);
        if (!writer->Write(resp)) break;
        sent = now;
      }
      std::this_thread::sleep_for(kWatchPoll);
    }
    return grpc::Status::OK;
  }

 private:
  const ServingState& state_;
};

// Keeps the server builder's global plugins (reflection) off the health-only port.
class NoPlugins : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    plugins->clear();
  }
};

}  // namespace

ServingState::ServingState(Database& db, std::vector<std::string> services,
                           grpc::HealthCheckServiceInterface* main)
    : db_(db), services_(std::move(services)), main_(main) {
  Publish();
  thread_ = std::thread([this] { Loop(); });
}

ServingState::~ServingState() { Stop(); }

void ServingState::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ServingState::Drain() {
  draining_ = true;
  Publish();
}

ServingState::Answer ServingState::Check(const std::string& service) const {
  if (IsLiveness(service)) return Answer::kServing;
  if (std::find(services_.begin(), services_.end(), service) == services_.end()) {
    return Answer::kUnknownName;
  }
  return Ready() ? Answer::kServing : Answer::kNotServing;
}

void ServingState::Publish() {
  std::lock_guard lock(mu_);  // the last caller publishes the latest state
  if (!main_) return;
  main_->SetServingStatus("", true);
  main_->SetServingStatus("liveness", true);
  for (const auto& s : services_) main_->SetServingStatus(s, Ready());
}

void ServingState::Loop() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, kCheckEvery, [this] { return stop_.load(); })) {
    lock.unlock();
    const bool ok = db_.Read([](pqxx::nontransaction& tx) {
                         Exec(tx, common::sql::kHealthPing);
                         return absl::OkStatus();
                       })
                        .ok();
    if (ok != database_ok_.exchange(ok)) {
      if (ok) {
        spdlog::info("database answers again: ready");
      } else {
        spdlog::warn("database does not answer: readiness NOT_SERVING");
      }
      Publish();
    }
    lock.lock();
  }
}

absl::StatusOr<std::unique_ptr<HealthOnlyServer>> HealthOnlyServer::Start(const std::string& listen,
                                                                          ServingState& state) {
  if (auto address = ParseListenAddress(listen, "--health-listen"); !address.ok()) {
    return address.status();
  }
  std::unique_ptr<HealthOnlyServer> out(new HealthOnlyServer());
  out->state_ = &state;
  out->service_ = std::make_unique<ProbeHealth>(state);
  grpc::ServerBuilder builder;
  // No default health service beside ours, and no reflection.
  builder.SetOption(std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(nullptr));
  builder.SetOption(std::make_unique<NoPlugins>());
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // a port in use is refused (host.cpp)
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &out->port_);
  builder.RegisterService(out->service_.get());
  out->server_ = builder.BuildAndStart();
  if (!out->server_ || out->port_ == 0) {
    return absl::UnavailableError("cannot listen on --health-listen " + listen);
  }
  return out;
}

void HealthOnlyServer::Shutdown() {
  if (!server_) return;
  state_->Stop();  // ends Watch streams
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_.reset();
}

HealthOnlyServer::~HealthOnlyServer() { Shutdown(); }

}  // namespace icr
