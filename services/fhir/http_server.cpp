// The FHIR server's transport on Boost.Beast (the only translation unit that includes Beast):
// connections accepted, read and written asynchronously on a few io threads, so an idle
// keep-alive connection holds no thread; each request's FhirApi::Handle (blocking: an in-process
// gRPC call waiting on PostgreSQL) runs on a pool of worker threads and its answer is posted back
// to the connection's strand.
#include "services/fhir/http_server.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "services/common/listen_address.h"
#include "services/common/status.h"
#include "services/fhir/outcome.h"

namespace icr::fhir {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr size_t kMaxBody = 16 << 20;    // Bundles of up to 1,000 events
constexpr size_t kMaxHeader = 64 << 10;  // request line and headers
// Waiting for a request (keep-alive idle time) and reading its line and headers; a client that
// dribbles them (slowloris) is cut off here.
constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr auto kBodyTimeout = std::chrono::seconds(60);  // reading a body, once the headers are in
constexpr auto kWriteTimeout = std::chrono::seconds(60);
// After refusing a request whose body is not read (413): how long and how much of it to read
// and discard, so that the client, still sending, gets to read the refusal instead of a reset.
constexpr auto kDrainTimeout = std::chrono::seconds(5);
constexpr size_t kMaxDrain = 32 << 20;
constexpr char kFhirJson[] = "application/fhir+json; charset=utf-8";

// What the access log says of a path: its first segment and operation, never ids or queries.
std::string LoggedPath(const std::string& path) {
  const size_t second = path.find('/', 1);
  std::string shown = path.substr(0, second);
  const size_t op = path.find("/$");
  if (op != std::string::npos && op != 0) shown += path.substr(op, path.find('/', op + 1) - op);
  return shown.empty() ? "/" : shown;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; in a query, '+' is a space. A malformed escape is kept as it is.
std::string Decode(std::string_view text, bool query) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += (query && c == '+') ? ' ' : c;
  }
  return out;
}

std::multimap<std::string, std::string> QueryParams(std::string_view query) {
  std::multimap<std::string, std::string> params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    params.emplace(Decode(pair.substr(0, eq), true),
                   eq == std::string_view::npos ? "" : Decode(pair.substr(eq + 1), true));
  }
  return params;
}

HttpResponse Refusal(int status, const std::string& issue_code, const std::string& diagnostics) {
  HttpResponse out;
  out.status = status;
  out.body = OperationOutcome(issue_code, diagnostics).dump();
  return out;
}

// The headers every answer carries, then the answer's own (replacing a default of the same name).
template <class Body>
void SetHeaders(http::response<Body>& res, const HttpResponse& out) {
  res.set("X-Content-Type-Options", "nosniff");
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::content_type, out.content_type);
  for (size_t i = 0; i < out.headers.size(); ++i) {
    const std::string& name = out.headers[i].first;
    bool first = true;
    for (size_t j = 0; j < i && first; ++j) first = !beast::iequals(out.headers[j].first, name);
    if (first) res.erase(name);
    res.insert(name, out.headers[i].second);
  }
}

// A connection, as the server sees it to close it at Stop.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void Close() = 0;
};

// The server: the listening socket, the io threads and the worker pool.
struct Server {
  FhirApi& api;
  FhirServerOptions options;
  int port = 0;

  // The live connections (closed at Stop); declared before io so they outlive it.
  std::mutex mu;
  std::atomic<bool> stopping = false;
  bool started = false;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;

  asio::io_context io;
  std::optional<ssl::context> tls;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::thread_pool> workers;
  std::vector<std::thread> io_threads;

  Server(FhirApi& a, FhirServerOptions o) : api(a), options(std::move(o)) {}

  absl::Status Bind();
  absl::Status MakeTlsContext();
  void Accept();
  // Runs FhirApi::Handle on a request (on a worker thread), with the access log line.
  HttpResponse Serve(const HttpRequest& r);
  // Registers a connection; false when the server is stopping (then it is dropped).
  bool Add(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mu);
    if (stopping) return false;
    connections.emplace(c.get(), c);
    return true;
  }
  void Remove(Connection* c) {
    std::lock_guard lock(mu);
    connections.erase(c);
  }
};

// One HTTP/1.1 connection over Stream (beast::tcp_stream, or TLS over it): requests read one at
// a time, each served on the worker pool, answered, and the next read while kept alive.
template <class Stream>
class Session : public Connection, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Session(Server& server, tcp::socket&& socket, std::string peer) requires(!kTls)
      : server_(server), stream_(std::move(socket)), peer_(std::move(peer)) {}
  Session(Server& server, tcp::socket&& socket, std::string peer, ssl::context& ctx) requires(kTls)
      : server_(server), stream_(std::move(socket), ctx), peer_(std::move(peer)) {}
  ~Session() override { server_.Remove(this); }

  void Run() {
    auto self = this->shared_from_this();
    if constexpr (kTls) {
      Lowest().expires_after(kReadTimeout);
      stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
        if (ec) return self->CloseNow();
        self->ReadHeader();
      });
    } else {
      asio::dispatch(stream_.get_executor(), [self] { self->ReadHeader(); });
    }
  }

  void Close() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] { self->CloseNow(); });
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void ReadHeader() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    parser_->header_limit(kMaxHeader);
    Lowest().expires_after(kReadTimeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    Lowest().expires_after(kBodyTimeout);
    auto& req = parser_->get();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                     req.version());
      http::async_write(stream_, *cont,
                        [self = this->shared_from_this(), cont](beast::error_code ec, size_t) {
                          if (ec) return self->CloseNow();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Answer(Refusal(413, "too-costly", "the body is too large (16 MB at most)"), false,
                    true);
    }
    if (ec == http::error::header_limit) {
      return Answer(Refusal(431, "too-costly", "the request headers are too large"), false, true);
    }
    // A malformed request (not a closed, reset or timed-out connection): 400, then close.
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      return Answer(Refusal(400, "structure", "malformed HTTP request"), false, true);
    }
    CloseNow();
  }

  void OnBody(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    auto request = std::make_shared<http::request<http::string_body>>(parser_->release());
    parser_.reset();
    version_ = request->version();
    const bool keep_alive = request->keep_alive();
    const std::string_view target(request->target().data(), request->target().size());
    const size_t question = target.find('?');
    const std::string path = Decode(target.substr(0, question), false);
    if (path != "/fhir" && !path.starts_with("/fhir/")) {
      return Answer(Refusal(404, "not-found", "nothing here; the FHIR base is /fhir"), keep_alive);
    }
    const http::verb verb = request->method();
    if (verb != http::verb::get && verb != http::verb::post && verb != http::verb::put &&
        verb != http::verb::delete_) {
      return Answer(Refusal(405, "not-supported", "the method is not supported"), keep_alive);
    }
    auto r = std::make_shared<HttpRequest>();
    r->method = std::string(request->method_string());
    r->path = path.substr(5);
    if (question != std::string_view::npos) r->params = QueryParams(target.substr(question + 1));
    r->header = [request](std::string_view name) {
      return std::string((*request)[beast::string_view(name.data(), name.size())]);
    };
    r->body = std::move(request->body());
    r->peer = [peer = peer_] { return peer; };
    const std::string& base = server_.options.base_url;
    r->base_url = base.empty() ? std::string(kTls ? "https://" : "http://") +
                                     std::string((*request)[http::field::host]) + "/fhir"
                               : base;
    asio::post(*server_.workers, [self = this->shared_from_this(), r, keep_alive] {
      HttpResponse out = self->server_.Serve(*r);
      asio::post(self->stream_.get_executor(), [self, out = std::move(out), keep_alive]() mutable {
        self->Answer(std::move(out), keep_alive);
      });
    });
  }

  // Writes an answer; then reads the next request, or closes (after discarding what the client
  // still sends, when its request was not read to the end).
  void Answer(HttpResponse out, bool keep_alive, bool unread = false) {
    keep_alive = keep_alive && !unread;
    Lowest().expires_after(kWriteTimeout);
    if (!out.file.empty()) {
      beast::error_code ec;
      http::file_body::value_type file;
      file.open(out.file.c_str(), beast::file_mode::scan, ec);
      if (!ec) {
        auto res = std::make_shared<http::response<http::file_body>>(
            std::piecewise_construct, std::make_tuple(std::move(file)),
            std::make_tuple(http::status::ok, version_));
        Write(res, out, keep_alive, unread);
        return;
      }
      spdlog::error("fhir: cannot open an export file: {}", ec.message());
      out = Refusal(500, "exception", "the file could not be read");
    }
    auto res = std::make_shared<http::response<http::string_body>>(http::status::ok, version_);
    res->body() = std::move(out.body);
    Write(res, out, keep_alive, unread);
  }

  template <class Body>
  void Write(const std::shared_ptr<http::response<Body>>& res, const HttpResponse& out,
             bool keep_alive, bool unread) {
    res->result(static_cast<unsigned>(out.status));
    SetHeaders(*res, out);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    http::async_write(
        stream_, *res,
        [self = this->shared_from_this(), res, keep_alive, unread](beast::error_code ec, size_t) {
          if (ec) return self->CloseNow();
          if (unread) return self->Drain();
          if (!keep_alive) return self->Shutdown();
          self->ReadHeader();
        });
  }

  // Reads and discards for a while, so the client can finish sending and read the answer.
  void Drain() {
    if constexpr (!kTls) {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    Lowest().expires_after(kDrainTimeout);
    drain_ = std::make_shared<std::vector<char>>(64 << 10);
    DrainMore(0);
  }

  void DrainMore(size_t drained) {
    // What was buffered past the headers counts too.
    buffer_.consume(buffer_.size());
    stream_.async_read_some(asio::buffer(*drain_), [self = this->shared_from_this(), drained](
                                                       beast::error_code ec, size_t n) {
      if (ec || drained + n > kMaxDrain) return self->CloseNow();
      self->DrainMore(drained + n);
    });
  }

  // After the last answer on a connection: TLS close_notify, or the sending half shut.
  void Shutdown() {
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(5));
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->CloseNow(); });
    } else {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      CloseNow();
    }
  }

  void CloseNow() {
    beast::error_code ignored;
    Lowest().socket().close(ignored);
  }

  Server& server_;
  Stream stream_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  unsigned version_ = 11;
  std::shared_ptr<std::vector<char>> drain_;
};

// "ipv4:10.0.0.7" or "ipv6:[::1]", as the gRPC peer's address without its port (the auth
// throttle's key is the same for both APIs).
std::string PeerOf(const tcp::socket& socket) {
  beast::error_code ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  asio::ip::address address = remote.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = address.to_v6().to_v4();
  }
  return address.is_v4() ? "ipv4:" + address.to_string() : "ipv6:[" + address.to_string() + "]";
}

absl::Status Server::MakeTlsContext() {
  const TlsFiles& files = options.tls;
  tls.emplace(ssl::context::tls_server);
  beast::error_code ec;
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
  if (!ec) tls->use_certificate_chain_file(files.cert, ec);
  if (ec) return absl::InvalidArgumentError("fhir: cannot use the TLS certificate " + files.cert);
  tls->use_private_key_file(files.key, ssl::context::pem, ec);
  if (ec) return absl::InvalidArgumentError("fhir: cannot use the TLS key " + files.key);
  if (!files.client_ca.empty()) {
    tls->load_verify_file(files.client_ca, ec);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca.c_str());
    if (ec || names == nullptr) {
      return absl::InvalidArgumentError("fhir: cannot use the client CA " + files.client_ca);
    }
    SSL_CTX_set_client_CA_list(tls->native_handle(), names);  // takes ownership
    tls->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return absl::OkStatus();
}

absl::Status Server::Bind() {
  ASSIGN_OR_RETURN(const ListenAddress address, ParseListenAddress(options.listen, "fhir"));
  const auto unavailable = [&] {
    return absl::UnavailableError("fhir: cannot listen on " + options.listen);
  };
  beast::error_code ec;
  tcp::resolver resolver(io);
  const auto endpoints =
      resolver.resolve(address.host, std::to_string(address.port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec) return unavailable();
  for (const auto& entry : endpoints) {
    tcp::acceptor a(asio::make_strand(io));
    // SO_REUSEADDR only: a second server on the same port fails instead of sharing it.
    if (a.open(entry.endpoint().protocol(), ec) ||
        a.set_option(asio::socket_base::reuse_address(true), ec) || a.bind(entry.endpoint(), ec) ||
        a.listen(asio::socket_base::max_listen_connections, ec)) {
      continue;
    }
    port = a.local_endpoint(ec).port();
    acceptor.emplace(std::move(a));
    return absl::OkStatus();
  }
  return unavailable();
}

void Server::Accept() {
  acceptor->async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::string peer = PeerOf(socket);
      if (tls) {
        auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
            *this, std::move(socket), std::move(peer), *tls);
        if (Add(s)) s->Run();
      } else {
        auto s =
            std::make_shared<Session<beast::tcp_stream>>(*this, std::move(socket), std::move(peer));
        if (Add(s)) s->Run();
      }
    } else {
      spdlog::warn("fhir: accept: {}", ec.message());  // e.g. out of file descriptors
    }
    Accept();
  });
}

HttpResponse Server::Serve(const HttpRequest& r) {
  const auto started = std::chrono::steady_clock::now();
  HttpResponse out;
  if (stopping) return Refusal(503, "transient", "the server is stopping");
  try {
    out = api.Handle(r);
  } catch (const std::exception& e) {
    spdlog::error("fhir: {}", e.what());
    out = Refusal(500, "exception", "the request could not be served");
  } catch (...) {
    spdlog::error("fhir: unknown exception");
    out = Refusal(500, "exception", "the request could not be served");
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
  spdlog::debug("fhir {} {} {} {}ms", r.method, LoggedPath(r.path), out.status, ms);
  return out;
}

}  // namespace

struct FhirServer::Impl : Server {
  using Server::Server;
};

FhirServer::FhirServer(FhirApi& api, FhirServerOptions options)
    : impl_(std::make_unique<Impl>(api, std::move(options))) {}

FhirServer::~FhirServer() { Stop(); }

absl::Status FhirServer::Start() {
  Impl& impl = *impl_;
  if (!impl.options.tls.cert.empty()) RETURN_IF_ERROR(impl.MakeTlsContext());
  RETURN_IF_ERROR(impl.Bind());
  impl.workers.emplace(static_cast<size_t>(std::max(1, impl.options.threads)));
  impl.Accept();
  const unsigned io_threads = std::clamp(std::thread::hardware_concurrency(), 2u, 8u);
  for (unsigned i = 0; i < io_threads; ++i) {
    impl.io_threads.emplace_back([&impl] { impl.io.run(); });
  }
  impl.started = true;
  return absl::OkStatus();
}

void FhirServer::Stop() {
  Impl& impl = *impl_;
  if (!impl.started) return;
  impl.started = false;
  // No new connections, then every open one closed (an answer being prepared is dropped).
  std::promise<void> closed;
  asio::post(impl.acceptor->get_executor(), [&] {
    beast::error_code ignored;
    impl.acceptor->close(ignored);
    closed.set_value();
  });
  closed.get_future().wait();
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(impl.mu);
    impl.stopping = true;
    for (const auto& [_, weak] : impl.connections) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
  }
  for (const auto& c : open) c->Close();
  open.clear();
  impl.workers->join();  // requests being served finish (FhirApi must outlive them)
  impl.io.stop();
  for (auto& t : impl.io_threads) t.join();
  impl.io_threads.clear();
}

int FhirServer::port() const { return impl_->port; }

}  // namespace icr::fhir
