#include "services/fhir/http_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "services/common/http_listen.h"
#include "services/common/status.h"
#include "services/fhir/outcome.h"

namespace icr::fhir {
namespace {

// Bundles of up to 1,000 events.
constexpr size_t kMaxBody = 16 << 20;

// What the access log says of a path: its first segment and operation, never ids or queries.
std::string LoggedPath(const std::string& path) {
  const size_t second = path.find('/', 1);
  std::string shown = path.substr(0, second);
  const size_t op = path.find("/$");
  if (op != std::string::npos && op != 0) shown += path.substr(op, path.find('/', op + 1) - op);
  return shown.empty() ? "/" : shown;
}

}  // namespace

struct FhirServer::Impl {
  FhirApi& api;
  FhirServerOptions options;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  int port = 0;

  void Serve(const httplib::Request& req, httplib::Response& res) {
    const auto started = std::chrono::steady_clock::now();
    HttpRequest r;
    r.method = req.method;
    r.path = req.matches.size() > 1 ? req.matches[1].str() : "";
    for (const auto& [name, value] : req.params) r.params.emplace(name, value);
    r.header = [&req](std::string_view name) {
      return req.get_header_value(std::string(name).c_str());
    };
    r.body = req.body;
    r.peer = [&req] { return "ipv4:" + req.remote_addr; };
    r.base_url = options.base_url.empty()
                     ? std::string(options.tls.cert.empty() ? "http://" : "https://") +
                           req.get_header_value("Host") + "/fhir"
                     : options.base_url;
    HttpResponse out = api.Handle(r);
    res.status = out.status;
    for (const auto& [name, value] : out.headers) res.set_header(name.c_str(), value);
    if (!out.file.empty()) {
      auto file = std::make_shared<std::ifstream>(out.file, std::ios::binary);
      file->seekg(0, std::ios::end);
      const size_t size = static_cast<size_t>(file->tellg());
      file->seekg(0);
      res.set_content_provider(
          size, out.content_type,
          [file](size_t offset, size_t length, httplib::DataSink& sink) {
            char buf[64 * 1024];
            file->seekg(static_cast<std::streamoff>(offset));
            file->read(buf, static_cast<std::streamsize>(std::min(length, sizeof buf)));
            const auto n = file->gcount();
            if (n <= 0) return false;
            sink.write(buf, static_cast<size_t>(n));
            return true;
          });
    } else {
      res.set_content(out.body, out.content_type.c_str());
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    spdlog::debug("fhir {} {} {} {}ms", req.method, LoggedPath(r.path), res.status, ms);
  }
};

FhirServer::FhirServer(FhirApi& api, FhirServerOptions options)
    : impl_(std::make_unique<Impl>(Impl{api, std::move(options), nullptr, {}, 0})) {}

FhirServer::~FhirServer() { Stop(); }

absl::Status FhirServer::Start() {
  const TlsFiles& tls = impl_->options.tls;
  if (tls.cert.empty()) {
    impl_->server = std::make_unique<httplib::Server>();
  } else {
    auto ssl = std::make_unique<httplib::SSLServer>(
        tls.cert.c_str(), tls.key.c_str(), tls.client_ca.empty() ? nullptr : tls.client_ca.c_str());
    if (!ssl->is_valid()) {
      return absl::InvalidArgumentError("fhir: cannot use the TLS certificate, key or client CA");
    }
    impl_->server = std::move(ssl);
  }
  httplib::Server& server = *impl_->server;
  const int threads = std::max(1, impl_->options.threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_keep_alive_max_count(10000);
  server.set_keep_alive_timeout(5);
  server.set_read_timeout(std::chrono::seconds(30));
  server.set_write_timeout(std::chrono::seconds(60));
  server.set_payload_max_length(kMaxBody);
  server.set_default_headers({{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "no-store"}});
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          spdlog::error("fhir: {}", e.what());
        } catch (...) {
          spdlog::error("fhir: unknown exception");
        }
        res.status = 500;
        res.set_content(OperationOutcome("exception", "the request could not be served").dump(),
                        "application/fhir+json; charset=utf-8");
      });
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        res.set_content(OperationOutcome(res.status == 413 ? "too-costly" : "not-found",
                                         res.status == 413 ? "the body is too large (16 MB at most)"
                                                           : "nothing here; the FHIR base is /fhir")
                            .dump(),
                        "application/fhir+json; charset=utf-8");
        return httplib::Server::HandlerResponse::Handled;
      }));
  const auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    impl_->Serve(req, res);
  };
  const char* kPattern = R"(/fhir(/.*)?)";
  server.Get(kPattern, handler);
  server.Post(kPattern, handler);
  server.Put(kPattern, handler);
  server.Delete(kPattern, handler);
  ASSIGN_OR_RETURN(impl_->port, BindHttp(server, impl_->options.listen, "fhir"));
  impl_->thread = ServeHttp(server);
  return absl::OkStatus();
}

void FhirServer::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->server->stop();
  impl_->thread.join();
}

int FhirServer::port() const { return impl_->port; }

}  // namespace icr::fhir
