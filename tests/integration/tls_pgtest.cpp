// TLS and mutual TLS on the real server, tested for real: certificates are made with the openssl
// command line at suite start (a CA, a server certificate for localhost / 127.0.0.1, a client
// certificate, and an unrelated second CA with its own client certificate), and Hosts are started
// in-process with HostOptions::tls and reached through real gRPC channels.
#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/common/grpc_server.h"
#include "services/server/host.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

constexpr const char* kOrg = "RX4";

std::string Quote(const std::string& s) { return "'" + s + "'"; }

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/icr-tls-XXXXXX";
    if (!mkdtemp(tmpl)) {
      std::cerr << "mkdtemp failed\n";
      return;
    }
    dir_ = tmpl;
    certs_ok_ = MakeCertificates();
    if (!certs_ok_) {
      std::cerr << "openssl failed; log: " << Path("openssl.log") << "\n";
      return;
    }
    db_ = std::make_unique<Database>(Stack::NewDatabase("tls"), 4);
    auto token = Authenticator::CreateToken(*db_, kOrg, Role::kSystem, "tls test");
    if (!token.ok()) {
      std::cerr << "cannot create token: " << token.status() << "\n";
      return;
    }
    token_ = *token;
  }

  static void TearDownTestSuite() {
    db_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  void SetUp() override {
    ASSERT_TRUE(certs_ok_) << "certificates were not generated (see " << Path("openssl.log")
                           << ")";
    ASSERT_TRUE(db_ && !token_.empty()) << "database or token setup failed";
  }

  static std::string Path(const std::string& name) { return dir_ + "/" + name; }

  static bool Openssl(const std::string& args) {
    const std::string cmd = "cd " + Quote(dir_) + " && openssl " + args + " >>openssl.log 2>&1";
    return std::system(cmd.c_str()) == 0;
  }

  static bool WriteText(const std::string& name, const std::string& text) {
    std::ofstream out(Path(name));
    out << text;
    return static_cast<bool>(out);
  }

  // A self-signed CA: <name>.pem and <name>.key.
  static bool MakeCa(const std::string& name, const std::string& cn) {
    return Openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
                   "-keyout " + name + ".key -out " + name + ".pem -subj " + Quote("/CN=" + cn));
  }

  // A leaf certificate <name>.pem / <name>.key signed by ca, with the extensions in <name>.ext.
  static bool MakeLeaf(const std::string& name, const std::string& cn, const std::string& ca,
                       const std::string& extensions, int serial) {
    return WriteText(name + ".ext", extensions) &&
           Openssl("req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
                   name + ".key -out " + name + ".csr -subj " + Quote("/CN=" + cn)) &&
           Openssl("x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
                   ".key -set_serial " + std::to_string(serial) + " -days 2 -extfile " + name +
                   ".ext -out " + name + ".pem");
  }

  static bool MakeCertificates() {
    const std::string server_ext =
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    const std::string client_ext =
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=clientAuth\n";
    return MakeCa("ca", "ICR Test CA") &&
           MakeLeaf("server", "localhost", "ca", server_ext, 1001) &&
           MakeLeaf("client", "icr-test-client", "ca", client_ext, 1002) &&
           MakeCa("other_ca", "Unrelated Test CA") &&
           MakeLeaf("other_client", "icr-test-client", "other_ca", client_ext, 2001);
  }

  // Starts a Host on 127.0.0.1:0 with the given TLS files; fails the test when it cannot.
  static std::unique_ptr<Host> StartHost(const TlsFiles& tls) {
    HostOptions options;
    options.listen = "127.0.0.1:0";
    options.services = KnownServices();
    options.tls = tls;
    auto host = Host::Start(*db_, options);
    EXPECT_TRUE(host.ok()) << host.status();
    if (!host.ok()) return nullptr;
    return std::move(*host);
  }

  static TlsFiles ServerTls(bool mutual) {
    TlsFiles tls;
    tls.cert = Path("server.pem");
    tls.key = Path("server.key");
    if (mutual) tls.client_ca = Path("ca.pem");
    return tls;
  }

  // A channel trusting the PEM file `ca`, presenting cert/key when given, and checking the
  // server's name against `target_name` (empty: against the address itself).
  static std::shared_ptr<grpc::Channel> TlsChannel(int port, const std::string& ca,
                                                   const std::string& cert = "",
                                                   const std::string& key = "",
                                                   const std::string& target_name = "localhost") {
    grpc::SslCredentialsOptions options;
    EXPECT_TRUE(ReadFile(Path(ca), &options.pem_root_certs)) << ca;
    if (!cert.empty()) {
      EXPECT_TRUE(ReadFile(Path(cert), &options.pem_cert_chain)) << cert;
      EXPECT_TRUE(ReadFile(Path(key), &options.pem_private_key)) << key;
    }
    return Channel(port, grpc::SslCredentials(options), target_name);
  }

  static std::shared_ptr<grpc::Channel> Channel(int port,
                                                std::shared_ptr<grpc::ChannelCredentials> creds,
                                                const std::string& target_name = "") {
    grpc::ChannelArguments args;
    if (!target_name.empty()) args.SetSslTargetNameOverride(target_name);
    // Each channel gets its own connection: no sharing of subchannels between test cases.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), creds, args);
  }

  // GetPerson for an NHS number nobody has: NOT_FOUND when the call got through to the service.
  static grpc::Status Probe(const std::shared_ptr<grpc::Channel>& channel, int deadline_seconds) {
    auto stub = icr::v1::RecordService::NewStub(channel);
    auto ctx = Ctx(token_);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_seconds));
    icr::v1::GetPersonRequest req;
    req.set_nhs_number(NextNhsNumber());
    icr::v1::Person out;
    return stub->GetPerson(ctx.get(), req, &out);
  }

  // A full round trip: upsert a person, then read it back, both over this channel.
  static void ExpectRoundTrip(const std::shared_ptr<grpc::Channel>& channel) {
    auto stub = icr::v1::RecordService::NewStub(channel);
    const std::string nhs = NextNhsNumber();
    icr::v1::UpsertPersonRequest up;
    *up.mutable_person() = MakePerson(nhs);
    icr::v1::Person stored;
    auto status = stub->UpsertPerson(Ctx(token_).get(), up, &stored);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    icr::v1::GetPersonRequest get;
    get.set_nhs_number(nhs);
    icr::v1::Person read;
    status = stub->GetPerson(Ctx(token_).get(), get, &read);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    EXPECT_EQ(read.nhs_number(), nhs);
    EXPECT_EQ(read.person_id(), stored.person_id());
  }

  static void ExpectRefused(const std::shared_ptr<grpc::Channel>& channel, const char* what) {
    const auto start = std::chrono::steady_clock::now();
    grpc::Status s = Probe(channel, 5);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE)
        << what << ": got " << s.error_code() << " " << s.error_message();
    EXPECT_LT(took, std::chrono::seconds(5)) << what << ": refusal should be prompt";
  }

  static inline std::string dir_;
  static inline bool certs_ok_ = false;
  static inline std::unique_ptr<Database> db_;
  static inline std::string token_;
};

TEST_F(TlsTest, TlsServerServesClientsThatTrustItsCa) {
  auto host = StartHost(ServerTls(false));
  ASSERT_TRUE(host);
  auto channel = TlsChannel(host->port(), "ca.pem");
  grpc::Status s = Probe(channel, 10);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  ExpectRoundTrip(channel);
}

TEST_F(TlsTest, TlsServerCertificateMatchesIpAddressWithoutOverride) {
  auto host = StartHost(ServerTls(false));
  ASSERT_TRUE(host);
  // No target name override: the name checked is "127.0.0.1", which the certificate's
  // IP subjectAltName covers.
  grpc::Status s = Probe(TlsChannel(host->port(), "ca.pem", "", "", ""), 10);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
}

TEST_F(TlsTest, TlsServerRefusesPlaintextClients) {
  auto host = StartHost(ServerTls(false));
  ASSERT_TRUE(host);
  ExpectRefused(Channel(host->port(), grpc::InsecureChannelCredentials()), "plaintext client");
}

TEST_F(TlsTest, ClientRejectsServerItDoesNotTrust) {
  auto host = StartHost(ServerTls(false));
  ASSERT_TRUE(host);
  // The server's certificate was not signed by the CA this client trusts.
  ExpectRefused(TlsChannel(host->port(), "other_ca.pem"), "client trusting another CA");
  // Signed by the right CA, but for another name.
  ExpectRefused(TlsChannel(host->port(), "ca.pem", "", "", "db.example.org"),
                "client expecting another host name");
}

TEST_F(TlsTest, MutualTlsRefusesClientWithoutCertificate) {
  auto host = StartHost(ServerTls(true));
  ASSERT_TRUE(host);
  ExpectRefused(TlsChannel(host->port(), "ca.pem"), "client without a certificate");
  ExpectRefused(Channel(host->port(), grpc::InsecureChannelCredentials()), "plaintext client");
}

TEST_F(TlsTest, MutualTlsRefusesClientCertificateFromAnotherCa) {
  auto host = StartHost(ServerTls(true));
  ASSERT_TRUE(host);
  ExpectRefused(TlsChannel(host->port(), "ca.pem", "other_client.pem", "other_client.key"),
                "client certificate signed by another CA");
}

TEST_F(TlsTest, MutualTlsServesClientWithCertificateFromItsCa) {
  auto host = StartHost(ServerTls(true));
  ASSERT_TRUE(host);
  auto channel = TlsChannel(host->port(), "ca.pem", "client.pem", "client.key");
  grpc::Status s = Probe(channel, 10);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  ExpectRoundTrip(channel);
}

TEST_F(TlsTest, MakeChannelCredentialsWorksAgainstMutualTls) {
  auto host = StartHost(ServerTls(true));
  ASSERT_TRUE(host);
  std::string error;
  auto creds = MakeChannelCredentials(Path("ca.pem"), Path("client.pem"), Path("client.key"),
                                      &error);
  ASSERT_TRUE(creds) << error;
  grpc::Status s = Probe(Channel(host->port(), creds, "localhost"), 10);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();

  // Without the client certificate the same helper's credentials are refused.
  auto no_cert = MakeChannelCredentials(Path("ca.pem"), "", "", &error);
  ASSERT_TRUE(no_cert) << error;
  ExpectRefused(Channel(host->port(), no_cert, "localhost"), "MakeChannelCredentials, no cert");

  // A missing CA file is reported by name.
  error.clear();
  EXPECT_FALSE(MakeChannelCredentials(Path("missing-ca.pem"), "", "", &error));
  EXPECT_NE(error.find(Path("missing-ca.pem")), std::string::npos) << error;
}

TEST_F(TlsTest, MissingFilesAreReportedByName) {
  const std::string missing = Path("no-such-dir/server.pem");
  {
    TlsFiles tls = ServerTls(false);
    tls.cert = missing;
    std::string error;
    EXPECT_EQ(MakeServerCredentials(tls, &error), nullptr);
    EXPECT_NE(error.find(missing), std::string::npos) << error;
  }
  {
    TlsFiles tls = ServerTls(false);
    tls.key = Path("missing.key");
    std::string error;
    EXPECT_EQ(MakeServerCredentials(tls, &error), nullptr);
    EXPECT_NE(error.find(Path("missing.key")), std::string::npos) << error;
  }
  {
    TlsFiles tls = ServerTls(true);
    tls.client_ca = Path("missing-ca.pem");
    std::string error;
    EXPECT_EQ(MakeServerCredentials(tls, &error), nullptr);
    EXPECT_NE(error.find(Path("missing-ca.pem")), std::string::npos) << error;
  }
  {
    // A client CA without a server certificate is a configuration error, not plaintext.
    TlsFiles tls;
    tls.client_ca = Path("ca.pem");
    std::string error;
    EXPECT_EQ(MakeServerCredentials(tls, &error), nullptr);
    EXPECT_FALSE(error.empty());
  }
  {
    // Host::Start refuses to start rather than falling back to plaintext.
    TlsFiles tls = ServerTls(false);
    tls.cert = missing;
    HostOptions options;
    options.services = KnownServices();
    options.tls = tls;
    auto host = Host::Start(*db_, options);
    ASSERT_FALSE(host.ok());
    EXPECT_EQ(host.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(host.status().message()).find(missing), std::string::npos)
        << host.status();
  }
}

}  // namespace
}  // namespace icr::test
