#include "services/common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace icr {
namespace {

class AccessLogInterceptor : public grpc::experimental::Interceptor {
 public:
  AccessLogInterceptor(grpc::experimental::ServerRpcInfo* info, Authenticator* auth)
      : method_(info->method()), auth_(auth), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      if (md && auth_ && spdlog::should_log(spdlog::level::info)) {
        auto it = md->find("authorization");
        if (it != md->end()) authorization_.assign(it->second.data(), it->second.size());
      }
    }
    // The log's fields (the organisation costs a hash of the token) only when it is written.
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        spdlog::should_log(spdlog::level::info)) {
      const grpc::Status status = methods->GetSendStatus();
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start_)
                          .count();
      const std::string org = auth_ && !authorization_.empty() ? auth_->CachedOrg(authorization_)
                                                               : std::string("-");
      spdlog::info("access method={} status={} latency_us={} org={}", method_,
                   static_cast<int>(status.error_code()), us, org);
    }
    methods->Proceed();
  }

 private:
  std::string method_;
  Authenticator* auth_;
  std::chrono::steady_clock::time_point start_;
  std::string authorization_;
};

class AccessLogFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit AccessLogFactory(Authenticator* auth) : auth_(auth) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new AccessLogInterceptor(info, auth_);
  }

 private:
  Authenticator* auth_;
};

}  // namespace

void InitLogging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("icr");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeAccessLogFactory(
    Authenticator* auth) {
  return std::make_unique<AccessLogFactory>(auth);
}

}  // namespace icr
