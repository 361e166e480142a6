#include "services/common/logging.h"

#include <openssl/rand.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>

#include "services/common/metrics.h"
#include "services/common/validation.h"

namespace icr {
namespace {

// Fields a JSON log line carries beside ts, level and msg; set by the thread writing the line
// (the logger is synchronous, so it formats on that thread).
thread_local const nlohmann::json* t_fields = nullptr;

// One JSON object a line: {"level":"info","msg":"...","ts":"2026-12-04T20:50:01.123Z", ...}.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::json line = t_fields ? *t_fields : nlohmann::json::object();
    const auto since = msg.time.time_since_epoch();
    const auto secs = std::chrono::floor<std::chrono::seconds>(since);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
    const std::time_t t = secs.count();
    std::tm utc{};
    gmtime_r(&t, &utc);
    char ts[32];
    const size_t n = std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &utc);
    line["ts"] = std::string(ts, n) + fmt::format(".{:03}Z", static_cast<int>(ms));
    const auto level = spdlog::level::to_string_view(msg.level);
    line["level"] = std::string(level.data(), level.size());
    line["msg"] = std::string(msg.payload.data(), msg.payload.size());
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

bool g_json = false;

// 32 hex digits from 16 random bytes.
std::string NewRequestId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

class AccessLogInterceptor : public grpc::experimental::Interceptor {
 public:
  AccessLogInterceptor(grpc::experimental::ServerRpcInfo* info, Authenticator* auth)
      : method_(info->method()), auth_(auth), start_(std::chrono::steady_clock::now()) {
    // "/icr.v1.RecordService/GetPerson"
    const size_t slash = method_.rfind('/');
    if (slash != std::string::npos && slash > 0) {
      service_ = method_.substr(1, slash - 1);
      name_ = method_.substr(slash + 1);
    } else {
      name_ = method_;
    }
    if (metrics::Enabled()) metrics_.emplace(service_, name_, info->type());
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      ReadMetadata(methods->GetRecvInitialMetadata());
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA) &&
        !request_id_.empty()) {
      methods->GetSendInitialMetadata()->emplace("x-request-id", request_id_);
    }
    if (metrics_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      metrics_->Received();
    }
    if (metrics_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
      metrics_->Sent();
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Finished(methods->GetSendStatus());
    }
    methods->Proceed();
  }

 private:
  void ReadMetadata(std::multimap<grpc::string_ref, grpc::string_ref>* md) {
    if (!md) return;
    if (auth_ && spdlog::should_log(spdlog::level::info)) {
      auto it = md->find("authorization");
      if (it != md->end()) authorization_.assign(it->second.data(), it->second.size());
    }
    auto it = md->find("x-request-id");
    if (it == md->end()) {
      // Made up, and added to the call's metadata so that the handler (its audit rows) sees it;
      // request_id_ is not changed again, so the reference stays valid for the call.
      request_id_ = NewRequestId();
      md->emplace("x-request-id", grpc::string_ref(request_id_));
      return;
    }
    std::string sent(it->second.data(), it->second.size());
    // One the handlers would refuse (too long, control characters) is not logged or echoed.
    request_id_ = CheckText(sent, "x-request-id", 100, false).ok() ? sent : NewRequestId();
  }

  void Finished(const grpc::Status& status) {
    const auto elapsed = std::chrono::steady_clock::now() - start_;
    if (metrics_) {
      metrics_->Handled(status.error_code(), std::chrono::duration<double>(elapsed).count());
    }
    // The log's fields (the organisation costs a hash of the token) only when it is written.
    if (!spdlog::should_log(spdlog::level::info)) return;
    const std::string org = auth_ && !authorization_.empty() ? auth_->CachedOrg(authorization_)
                                                             : std::string("-");
    const int code = static_cast<int>(status.error_code());
    if (!g_json) {
      spdlog::info("access method={} status={} latency_us={} org={} request_id={}", method_, code,
                   std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count(), org,
                   request_id_);
      return;
    }
    const nlohmann::json fields = {
        {"rpc.system", "grpc"},
        {"rpc.service", service_},
        {"rpc.method", name_},
        {"rpc.grpc.status_code", code},
        {"duration_ms", std::chrono::duration<double, std::milli>(elapsed).count()},
        {"org", org},
        {"request_id", request_id_}};
    t_fields = &fields;
    spdlog::info("access");
    t_fields = nullptr;
  }

  std::string method_;
  std::string service_;
  std::string name_;
  Authenticator* auth_;
  std::chrono::steady_clock::time_point start_;
  std::string authorization_;
  std::string request_id_;
  std::optional<metrics::RpcMetrics> metrics_;
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

absl::Status InitLogging(const std::string& level, const std::string& format) {
  if (format != "text" && format != "json") {
    return absl::InvalidArgumentError("--log-format: text or json, not '" + format + "'");
  }
  auto logger = spdlog::stderr_color_mt("icr");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  g_json = format == "json";
  if (g_json) {
    spdlog::set_formatter(std::make_unique<JsonFormatter>());
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  }
  return absl::OkStatus();
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeAccessLogFactory(
    Authenticator* auth) {
  return std::make_unique<AccessLogFactory>(auth);
}

}  // namespace icr
