// The FHIR server's HTTP transport (Boost.Beast) over real sockets: keep-alive, more connections
// than worker threads all answered, slow clients not holding up others, the body limit, unknown
// paths, Connection: close and HTTP/1.0, binding (a taken port fails, IPv6), and HTTPS with the
// gRPC server's TLS files, mutual TLS included. Raw sockets where the test is about the
// connection itself; cpp-httplib's client elsewhere.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"

namespace icr::test {
namespace {

using Json = nlohmann::json;

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One TCP connection to 127.0.0.1:port, spoken to in raw HTTP/1.x.
class Raw {
 public:
  explicit Raw(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval timeout{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Raw() { ::close(fd_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  bool ok() const { return ok_; }

  bool Send(const std::string& text) {
    return ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
  }

  // The next response (status 0 when the connection ended or timed out first).
  Reply Read() {
    Reply r;
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return r;
    }
    const std::string head = pending_.substr(0, end);
    pending_.erase(0, end + 4);
    std::istringstream lines(head);
    std::string line;
    std::getline(lines, line);
    if (line.size() < 12) return r;
    r.status = std::stoi(line.substr(9, 3));
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    const size_t length =
        r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    while (pending_.size() < length) {
      if (!Fill()) return Reply{};
    }
    r.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return r;
  }

  // Whether the server closed the connection (end of stream within the receive timeout).
  bool Closed() {
    char c;
    return pending_.empty() && ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  bool Fill() {
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool ok_ = false;
  std::string pending_;
};

constexpr char kMetadata[] = "GET /fhir/metadata HTTP/1.1\r\nHost: test\r\n\r\n";

int Port() { return Stack::Get().fhir_port(); }

TEST(FhirHttp, MetadataIsFhirJsonWithTheDefaultHeaders) {
  httplib::Client client("127.0.0.1", Port());
  auto r = client.Get("/fhir/metadata");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/fhir+json; charset=utf-8");
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r->get_header_value("Cache-Control"), "no-store");
  EXPECT_EQ(Json::parse(r->body)["resourceType"], "CapabilityStatement");
}

TEST(FhirHttp, OneConnectionServesAHundredRequests) {
  Raw raw(Port());
  ASSERT_TRUE(raw.ok());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(raw.Send(kMetadata)) << i;
    const Reply r = raw.Read();
    ASSERT_EQ(r.status, 200) << "request " << i;
    ASSERT_NE(r.headers.count("content-length"), 0u);
  }
  // Pipelined: two requests sent at once, answered in order on the same connection.
  ASSERT_TRUE(raw.Send(std::string(kMetadata) + "GET /nothing-here HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_EQ(raw.Read().status, 200);
  EXPECT_EQ(raw.Read().status, 404);
}

TEST(FhirHttp, MoreConnectionsThanWorkerThreadsAreAllAnswered) {
  // The harness's server has 64 worker threads; 200 keep-alive connections are open at once
  // (each waits until all have had their first answer), then each makes four more requests.
  constexpr int kConnections = 200, kRequests = 5;
  std::atomic<int> answered = 0;
  std::latch all_open(kConnections);
  std::vector<std::thread> clients;
  const auto started = std::chrono::steady_clock::now();
  for (int c = 0; c < kConnections; ++c) {
    clients.emplace_back([&] {
      Raw raw(Port());
      for (int i = 0; i < kRequests; ++i) {
        if (raw.ok() && raw.Send(kMetadata) && raw.Read().status == 200) ++answered;
        if (i == 0) all_open.arrive_and_wait();
      }
    });
  }
  for (auto& t : clients) t.join();
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(answered, kConnections * kRequests);
  EXPECT_LT(took, std::chrono::seconds(20));
}

TEST(FhirHttp, SlowClientsDoNotHoldUpOthers) {
  // A hundred connections that send half a request and stall (more than the worker threads).
  std::vector<std::unique_ptr<Raw>> slow;
  for (int i = 0; i < 100; ++i) {
    slow.push_back(std::make_unique<Raw>(Port()));
    ASSERT_TRUE(slow.back()->ok());
    ASSERT_TRUE(slow.back()->Send("GET /fhir/metadata HTTP/1.1\r\nHost: sl"));
  }
  const auto started = std::chrono::steady_clock::now();
  httplib::Client client("127.0.0.1", Port());
  auto r = client.Get("/fhir/metadata");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  // The stalled ones are still served when they finish.
  ASSERT_TRUE(slow[0]->Send("ow\r\n\r\n"));
  EXPECT_EQ(slow[0]->Read().status, 200);
}

TEST(FhirHttp, BodyOverSixteenMegabytesIs413) {
  httplib::Client client("127.0.0.1", Port());
  client.set_write_timeout(30, 0);
  client.set_read_timeout(30, 0);
  const std::string body((16 << 20) + 1, ' ');
  auto r = client.Post("/fhir", body, "application/fhir+json");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(Json::parse(r->body)["resourceType"], "OperationOutcome");
  // Announced but not sent: refused on the headers alone, and the connection closed.
  Raw raw(Port());
  ASSERT_TRUE(
      raw.Send("POST /fhir HTTP/1.1\r\nHost: t\r\nContent-Type: application/fhir+json\r\n"
               "Content-Length: 17000000\r\n\r\n{"));
  EXPECT_EQ(raw.Read().status, 413);
}

TEST(FhirHttp, UnknownPathIs404OperationOutcome) {
  httplib::Client client("127.0.0.1", Port());
  for (const char* path : {"/", "/fhirx/metadata", "/other/fhir/metadata"}) {
    auto r = client.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    const Json body = Json::parse(r->body, nullptr, false);
    EXPECT_EQ(body["resourceType"], "OperationOutcome") << path;
    EXPECT_EQ(body["issue"][0]["code"], "not-found") << path;
  }
}

TEST(FhirHttp, MalformedRequestIs400) {
  Raw raw(Port());
  ASSERT_TRUE(raw.Send("GET /fhir/metadata HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n"));
  EXPECT_EQ(raw.Read().status, 400);
}

TEST(FhirHttp, ConnectionCloseAndHttp10AreHonoured) {
  {
    Raw raw(Port());
    ASSERT_TRUE(raw.Send("GET /fhir/metadata HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    const Reply r = raw.Read();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.at("connection"), "close");
    EXPECT_TRUE(raw.Closed());
  }
  {
    Raw raw(Port());
    ASSERT_TRUE(raw.Send("GET /fhir/metadata HTTP/1.0\r\n\r\n"));
    EXPECT_EQ(raw.Read().status, 200);
    EXPECT_TRUE(raw.Closed());
  }
  {
    Raw raw(Port());  // HTTP/1.0 asking for keep-alive gets it
    const std::string request = "GET /fhir/metadata HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    ASSERT_TRUE(raw.Send(request));
    EXPECT_EQ(raw.Read().status, 200);
    ASSERT_TRUE(raw.Send(request));
    EXPECT_EQ(raw.Read().status, 200);
  }
}

// Starts a Host serving FHIR at fhir_listen on the harness's database (with TLS when given).
absl::StatusOr<std::unique_ptr<Host>> StartFhir(const std::string& fhir_listen,
                                                const TlsFiles& tls = {}) {
  HostOptions options;
  options.services = {"record", "careplan"};
  options.fhir_listen = fhir_listen;
  options.tls = tls;
  options.fhir_threads = 4;
  return Host::Start(Stack::Get().db(), options);
}

TEST(FhirHttp, ATakenPortFailsAndABadAddressIsInvalid) {
  auto second = StartFhir("127.0.0.1:" + std::to_string(Port()));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  auto bad = StartFhir("127.0.0.1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
}

TEST(FhirHttp, ListensOnIpv6) {
  auto host = StartFhir("[::1]:0");
  ASSERT_TRUE(host.ok()) << host.status();
  ASSERT_GT((*host)->fhir_port(), 0);
  httplib::Client client("::1", (*host)->fhir_port());
  auto r = client.Get("/fhir/metadata");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  (*host)->Shutdown();
}

// HTTPS with the gRPC server's files: a CA, a server certificate for 127.0.0.1 and a client
// certificate, made with the openssl command line in a folder of this process's own.
class FhirTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = "/tmp/icr-fhir-tls-" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
    const std::string script =
        "cd " + dir_ +
        " && exec >openssl.log 2>&1 && set -e\n"
        "key=\"-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes\"\n"
        "openssl req -x509 $key -days 2 -keyout ca.key -out ca.pem -subj /CN=FhirTestCA\n"
        "openssl req -new $key -keyout server.key -out server.csr -subj /CN=localhost "
        "-addext subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 11 -days 2 "
        "-copy_extensions copy -out server.pem\n"
        "openssl req -new $key -keyout client.key -out client.csr -subj /CN=fhir-client\n"
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 12 -days 2 "
        "-out client.pem\n";
    std::ofstream(dir_ + "/make.sh") << script;
    made_ = std::system(("bash " + dir_ + "/make.sh").c_str()) == 0;
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  void SetUp() override { ASSERT_TRUE(made_) << "openssl failed: see " << dir_ << "/openssl.log"; }

  static TlsFiles Files(bool mutual) {
    TlsFiles tls{dir_ + "/server.pem", dir_ + "/server.key", ""};
    if (mutual) tls.client_ca = dir_ + "/ca.pem";
    return tls;
  }

  static httplib::Result Metadata(int port, bool with_client_certificate) {
    std::unique_ptr<httplib::SSLClient> client =
        with_client_certificate ? std::make_unique<httplib::SSLClient>(
                                      "127.0.0.1", port, dir_ + "/client.pem", dir_ + "/client.key")
                                : std::make_unique<httplib::SSLClient>("127.0.0.1", port);
    client->set_ca_cert_path((dir_ + "/ca.pem").c_str());
    client->enable_server_certificate_verification(true);
    client->set_connection_timeout(5, 0);
    client->set_read_timeout(5, 0);
    return client->Get("/fhir/metadata");
  }

  static inline std::string dir_;
  static inline bool made_ = false;
};

TEST_F(FhirTls, HttpsWithTheServerCertificate) {
  auto host = StartFhir("127.0.0.1:0", Files(false));
  ASSERT_TRUE(host.ok()) << host.status();
  auto r = Metadata((*host)->fhir_port(), false);
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["resourceType"], "CapabilityStatement");
  // Plain HTTP on the HTTPS port gets nothing.
  httplib::Client plain("127.0.0.1", (*host)->fhir_port());
  plain.set_read_timeout(5, 0);
  auto p = plain.Get("/fhir/metadata");
  EXPECT_TRUE(!p || p->status != 200);
  (*host)->Shutdown();
}

TEST_F(FhirTls, MutualTlsRequiresAClientCertificate) {
  auto host = StartFhir("127.0.0.1:0", Files(true));
  ASSERT_TRUE(host.ok()) << host.status();
  auto without = Metadata((*host)->fhir_port(), false);
  EXPECT_FALSE(without) << "answered without a client certificate: " << without->status;
  auto with = Metadata((*host)->fhir_port(), true);
  ASSERT_TRUE(with) << httplib::to_string(with.error());
  EXPECT_EQ(with->status, 200);
  (*host)->Shutdown();
}

TEST_F(FhirTls, AMissingKeyIsInvalid) {
  TlsFiles tls = Files(false);
  tls.key = dir_ + "/no-such.key";
  auto host = StartFhir("127.0.0.1:0", tls);
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.status().code(), absl::StatusCode::kInvalidArgument) << host.status();
}

}  // namespace
}  // namespace icr::test
