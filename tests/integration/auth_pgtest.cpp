// Tokens on a real server: a revoked token stops working within the cache's second (gRPC; the
// dashboard's session is in dashboard_pgtest), a peer guessing tokens is throttled without
// locking out a token it has used, `icrctl admin token list | revoke` run as a subprocess, and
// the token pepper (--token-pepper-file): a token works only with the pepper it was issued with.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "icr/v1/record.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/server/host.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

// Longer than the Authenticator's cache of a valid token (1 s).
constexpr auto kPastCache = std::chrono::milliseconds(1200);

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    url_ = new std::string(Stack::NewDatabase("auth"));
    db_ = new Database(*url_, 4);
  }
  static void TearDownTestSuite() {
    delete db_;
    delete url_;
  }

  // A server of its own, so each test starts with an empty cache and throttle.
  void SetUp() override { StartServer(); }

  // A new server, with the token pepper loaded now and an empty cache.
  void StartServer() {
    host_.reset();
    HostOptions options;
    options.services = {"record"};
    auto host = Host::Start(*db_, options);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    stub_ = icr::v1::RecordService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(host_->port()), grpc::InsecureChannelCredentials()));
  }

  static std::string NewToken(const std::string& org, const std::string& label) {
    auto token = Authenticator::CreateToken(*db_, org, Role::kClinician, label);
    EXPECT_TRUE(token.ok()) << token.status();
    return *token;
  }

  // A call that gets past authentication as NOT_FOUND (nobody has that NHS number).
  grpc::Status Call(const std::string& token) {
    icr::v1::GetPersonRequest req;
    req.set_nhs_number(NextNhsNumber());
    icr::v1::Person person;
    return stub_->GetPerson(Ctx(token).get(), req, &person);
  }

  static inline std::string* url_ = nullptr;
  static inline Database* db_ = nullptr;
  std::unique_ptr<Host> host_;
  std::unique_ptr<icr::v1::RecordService::Stub> stub_;
};

TEST_F(AuthTest, ARevokedTokenJustUsedIsRefusedWithinASecond) {
  const std::string token = NewToken("RGD", "revoke test");
  EXPECT_EQ(Call(token).error_code(), grpc::StatusCode::NOT_FOUND);  // now in the cache
  ASSERT_TRUE(Authenticator::RevokeTokens(*db_, {token}).ok());
  std::this_thread::sleep_for(kPastCache);
  auto s = Call(token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
}

TEST_F(AuthTest, TooManyBadTokensFromOneAddressAreThrottledButAKnownTokenStillWorks) {
  const std::string known = NewToken("RGD", "throttle test");
  EXPECT_EQ(Call(known).error_code(), grpc::StatusCode::NOT_FOUND);
  for (int i = 0; i < FailedAuthThrottle::kMaxFailures; ++i) {
    EXPECT_EQ(Call("icr_guess" + std::to_string(i)).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  auto refused = Call("icr_one-guess-too-many");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refused.error_message(),
            "too many failed authentications from this address; retry later");
  // A token this server has seen valid still works, from its cache and after it expires.
  EXPECT_EQ(Call(known).error_code(), grpc::StatusCode::NOT_FOUND);
  std::this_thread::sleep_for(kPastCache);
  EXPECT_EQ(Call(known).error_code(), grpc::StatusCode::NOT_FOUND);
  // A valid token it has never seen waits for the block to end, like a guess.
  EXPECT_EQ(Call(NewToken("RGD", "new while throttled")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

using Run = CommandRun;

Run Icrctl(const std::string& args) { return RunCommand(std::string(ICRCTL) + " " + args); }

std::string Hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : bytes) hex += {kHex[c >> 4], kHex[c & 15]};
  return hex;
}

std::string TokenId(const std::string& token) { return Hex(TokenDigest(token).substr(0, 6)); }

bool Has(const Run& run, const std::string& text) {
  return run.output.find(text) != std::string::npos;
}

TEST_F(AuthTest, IcrctlListsAndRevokesTokensById) {
  setenv("ICR_DATABASE_URL", url_->c_str(), 1);
  const std::string a = NewToken("RGD", "list-a"), b = NewToken("RGD", "list-b"),
                    c = NewToken("QWO", "list-c");

  auto list = Icrctl("admin token list --org RGD");
  EXPECT_EQ(list.exit_code, 0) << list.output;
  EXPECT_TRUE(Has(list, TokenId(a) + "  RGD") && Has(list, TokenId(b)) && Has(list, "list-a"))
      << list.output;
  EXPECT_TRUE(Has(list, "active")) << list.output;
  EXPECT_FALSE(Has(list, TokenId(c)) || Has(list, a) || Has(list, b)) << list.output;

  auto by_id = Icrctl("admin token revoke --id " + TokenId(a));
  EXPECT_EQ(by_id.exit_code, 0) << by_id.output;
  EXPECT_TRUE(Has(by_id, TokenId(a)) && Has(by_id, "list-a")) << by_id.output;
  auto again = Icrctl("admin token revoke --id " + TokenId(a));
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_TRUE(Has(again, "icrctl: NOT_FOUND: no active token with id " + TokenId(a)))
      << again.output;
  auto unknown = Icrctl("admin token revoke --id 000000000000");
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_TRUE(Has(unknown, "NOT_FOUND")) << unknown.output;
  auto malformed = Icrctl("admin token revoke --id nonsense");
  EXPECT_EQ(malformed.exit_code, 1) << malformed.output;
  EXPECT_TRUE(Has(malformed, "INVALID_ARGUMENT: id:")) << malformed.output;

  auto by_token = Icrctl("admin token revoke --token " + b);
  EXPECT_EQ(by_token.exit_code, 0) << by_token.output;
  EXPECT_TRUE(Has(by_token, TokenId(b)) && !Has(by_token, b)) << by_token.output;

  auto active = Icrctl("admin token list --org RGD --active-only");
  EXPECT_EQ(active.exit_code, 0) << active.output;
  EXPECT_FALSE(Has(active, TokenId(a)) || Has(active, TokenId(b))) << active.output;

  auto by_org = Icrctl("admin token revoke --org QWO");
  EXPECT_EQ(by_org.exit_code, 0) << by_org.output;
  EXPECT_TRUE(Has(by_org, TokenId(c))) << by_org.output;
  auto org_again = Icrctl("admin token revoke --org QWO");
  EXPECT_EQ(org_again.exit_code, 0) << org_again.output;
  EXPECT_TRUE(Has(org_again, "nothing revoked")) << org_again.output;
  EXPECT_EQ(Icrctl("admin token revoke").exit_code, 2);
  EXPECT_EQ(Icrctl("admin token revoke --org NOPE").exit_code, 1);

  // Revoked in the database, and so refused by a server.
  std::this_thread::sleep_for(kPastCache);
  for (const auto* token : {&a, &b, &c}) {
    EXPECT_EQ(Call(*token).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  auto qwo = Icrctl("admin token list --org QWO");
  EXPECT_EQ(qwo.exit_code, 0) << qwo.output;
  EXPECT_TRUE(Has(qwo, TokenId(c)) && !Has(qwo, "active")) << qwo.output;
}

// A file of this test's holding `content`, removed when the test ends.
struct TempFile {
  std::string path;
  TempFile(const std::string& name, const std::string& content)
      : path("/tmp/auth_pgtest_" + std::to_string(getpid()) + "_" + name) {
    std::ofstream(path) << content;
  }
  ~TempFile() { std::remove(path.c_str()); }
};

std::string Trimmed(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

TEST_F(AuthTest, APepperedTokenWorksOnlyWithItsPepperAndIsNotStoredAsItsSha256) {
  setenv("ICR_DATABASE_URL", url_->c_str(), 1);
  unsetenv("ICR_TOKEN_PEPPER_FILE");
  const std::string secret = icr::NewToken();
  const TempFile pepper("pepper", secret + "\n"), other("other", icr::NewToken()),
      short_pepper("short", std::string(kMinTokenPepperBytes - 1, 'x') + "\n");
  const std::string with_pepper = " --token-pepper-file " + pepper.path;

  // Issued by icrctl with the pepper; a server with the same pepper accepts it.
  auto created =
      Icrctl("admin token create --org RGD --role clinician --label pepper" + with_pepper);
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const std::string token = Trimmed(created.output);
  ASSERT_TRUE(LoadTokenPepper(pepper.path).ok());
  StartServer();
  EXPECT_EQ(Call(token).error_code(), grpc::StatusCode::NOT_FOUND);
  // Stored as HMAC-SHA256(pepper, token), not SHA-256(token).
  const std::string stored = ScalarAt(
      *url_, "SELECT encode(token_sha256, 'hex') FROM core.api_token WHERE label = 'pepper'");
  EXPECT_EQ(stored, Hex(TokenDigest(token)));
  EXPECT_NE(stored, Hex(Sha256(token)));
  // The file's trailing newline is not part of the pepper (a Secret made from a literal has none).
  const TempFile no_newline("no-newline", secret);
  ASSERT_TRUE(LoadTokenPepper(no_newline.path).ok());
  EXPECT_EQ(Hex(TokenDigest(token)), stored);

  // A server with another pepper, or none, refuses it.
  ASSERT_TRUE(LoadTokenPepper(other.path).ok());
  StartServer();
  auto s = Call(token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  ASSERT_TRUE(LoadTokenPepper("").ok());
  StartServer();
  s = Call(token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();

  // Revoking by the token needs the pepper it was issued with.
  auto wrong = Icrctl("admin token revoke --token " + token + " --token-pepper-file " + other.path);
  EXPECT_EQ(wrong.exit_code, 1) << wrong.output;
  EXPECT_TRUE(Has(wrong, "NOT_FOUND")) << wrong.output;
  setenv("ICR_TOKEN_PEPPER_FILE", pepper.path.c_str(), 1);  // the environment twin
  auto revoked = Icrctl("admin token revoke --token " + token);
  unsetenv("ICR_TOKEN_PEPPER_FILE");
  EXPECT_EQ(revoked.exit_code, 0) << revoked.output;
  EXPECT_TRUE(Has(revoked, stored.substr(0, 12)) && Has(revoked, "pepper")) << revoked.output;
  ASSERT_TRUE(LoadTokenPepper(pepper.path).ok());
  StartServer();
  s = Call(token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  ASSERT_TRUE(LoadTokenPepper("").ok());

  // A pepper too short, missing or empty is refused at start, naming the flag.
  const TempFile empty("empty", "\n");
  for (const std::string& path : {short_pepper.path, empty.path, pepper.path + ".missing"}) {
    // Free ports, and stopped after 20 s should it start after all.
    const std::string flags = " --listen 127.0.0.1:0 --dashboard-listen off --fhir-listen off";
    auto server = RunCommand("timeout 20 " + std::string(ICR_SERVER) + flags + " --database-url '" +
                          *url_ + "' --token-pepper-file " + path);
    EXPECT_EQ(server.exit_code, 2) << server.output;
    EXPECT_TRUE(Has(server, "icr-server: --token-pepper-file: ")) << server.output;
    auto icrctl =
        Icrctl("admin token create --org RGD --role clinician --token-pepper-file " + path);
    EXPECT_EQ(icrctl.exit_code, 2) << icrctl.output;
    EXPECT_TRUE(Has(icrctl, "--token-pepper-file: ")) << icrctl.output;
  }
}

}  // namespace
}  // namespace icr::test
