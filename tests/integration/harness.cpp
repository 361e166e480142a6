#include "tests/integration/harness.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

#include "services/common/auth.h"
#include "services/common/migrations.h"
#include "services/common/reference_loader.h"
#include "services/common/validation.h"
#include "services/s117/feed_follower.h"

namespace icr::test {
namespace {

std::string BaseConnection() {
  const char* base = std::getenv("ICR_TEST_PG");
  if (!base || !*base) {
    std::cerr
        << "ICR_TEST_PG is not set: integration tests need the PostgreSQL cluster that "
           "tests/run.sh starts (e.g. ICR_TEST_PG='host=127.0.0.1 port=5432 user=postgres')\n";
    std::abort();
  }
  return base;
}

}  // namespace

std::string Stack::NewDatabase(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  const std::string name = prefix + "_" + std::to_string(getpid()) + "_" +
                           std::to_string(counter++) + "_" + std::to_string(rd() % 100000);
  {
    pqxx::connection admin(BaseConnection() + " dbname=postgres");
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + tx.quote_name(name));
  }
  const std::string url = BaseConnection() + " dbname=" + name;
  auto applied = ApplyMigrations(url);
  if (!applied.ok()) {
    std::cerr << "migrations failed: " << applied.status() << "\n";
    std::abort();
  }
  return url;
}

absl::StatusOr<OwnStack> StartOwnStack(const std::string& prefix,
                                       const std::set<std::string>& services, bool national_store,
                                       bool read_only_reads) {
  OwnStack own;
  own.url = Stack::NewDatabase(prefix);
  own.db = std::make_unique<Database>(own.url, 4);
  HostOptions options;
  options.services = services;
  options.national_store = national_store;
  if (read_only_reads) {
    own.read_db =
        std::make_unique<Database>(own.url + " options='-c default_transaction_read_only=on'", 4);
    options.read_db = own.read_db.get();
  }
  auto host = Host::Start(*own.db, options);
  if (!host.ok()) return host.status();
  own.host = std::move(*host);
  own.channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(own.host->port()),
                                    grpc::InsecureChannelCredentials());
  return own;
}

Stack& Stack::Get() {
  static Stack* stack = [] {
    auto* s = new Stack();
    s->url_ = NewDatabase("icrtest");
    s->db_ = std::make_unique<Database>(s->url_, 8);
    HostOptions options;
    options.services = KnownServices();
    // The access matrix makes many deliberate failed authentications from this one address;
    // the throttle has its own test on its own server (auth_pgtest).
    options.auth_failure_limit = 0;
    // The FHIR API on a free port, its bulk export files in a folder of this process's own.
    options.fhir_listen = "127.0.0.1:0";
    options.export_dir = "/tmp/icrtest-export-" + std::to_string(::getpid());
    auto host = Host::Start(*s->db_, options);
    if (!host.ok()) {
      std::cerr << "cannot start services: " << host.status() << "\n";
      std::abort();
    }
    s->host_ = std::move(*host);
    s->target_ = "127.0.0.1:" + std::to_string(s->host_->port());
    s->channel_ = grpc::CreateChannel(s->target_, grpc::InsecureChannelCredentials());
    // Stop the server before gRPC's own statics go at exit (registered after them, so run
    // before them): a server still running then, with its threads, can crash the process as it
    // ends.
    std::atexit([] {
      stack->channel_.reset();
      stack->host_.reset();
      stack->db_.reset();
    });
    return s;
  }();
  return *stack;
}

std::string Stack::Token(const std::string& org, const std::string& role) {
  const std::string key = org + "/" + role;
  auto it = tokens_.find(key);
  if (it != tokens_.end()) return it->second;
  auto token = Authenticator::CreateToken(*db_, org, *ParseRole(role), "test");
  EXPECT_TRUE(token.ok()) << token.status();
  tokens_[key] = *token;
  return *token;
}

std::string Stack::Scalar(const std::string& sql) { return ScalarAt(url_, sql); }

std::string ScalarAt(const std::string& url, const std::string& sql) {
  pqxx::connection c(url);
  pqxx::nontransaction tx(c);
  auto r = tx.exec(sql);
  if (r.empty() || r[0].empty() || r[0][0].is_null()) return "";
  return r[0][0].c_str();
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token,
                                         const std::map<std::string, std::string>& metadata) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  for (const auto& [k, v] : metadata) ctx->AddMetadata(k, v);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

std::string NextNhsNumber() {
  // Start from a per-process random offset so repeated runs against one database do not collide.
  static std::atomic<long long> next = [] {
    std::random_device rd;
    return 9990000000LL + static_cast<long long>(rd() % 900000) * 10;
  }();
  for (;;) {
    const std::string candidate = std::to_string(next.fetch_add(1));
    if (NhsNumberChecksumOk(candidate)) return candidate;
  }
}

icr::v1::Person SeedPerson(const std::string& org, const std::string& nhs_number) {
  auto& stack = Stack::Get();
  icr::v1::UpsertPersonRequest req;
  *req.mutable_person() = MakePerson(nhs_number);
  icr::v1::Person out;
  auto status = stack.record()->UpsertPerson(Ctx(stack.Token(org, "system")).get(), req, &out);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return out;
}

grpc::Status Send(const std::string& token, const std::vector<icr::v1::Event>& events,
                  icr::v1::RecordEventsResponse* response) {
  icr::v1::RecordEventsRequest req;
  for (const auto& e : events) *req.add_events() = e;
  icr::v1::RecordEventsResponse local;
  return Stack::Get().record()->RecordEvents(Ctx(token).get(), req, response ? response : &local);
}

CommandRun RunCommand(const std::string& command) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

void CatchUpS117Feed() {
  static s117::FeedFollower* follower = [] {
    auto ref = LoadReferenceData(Stack::Get().db());
    EXPECT_TRUE(ref.ok()) << ref.status();
    return new s117::FeedFollower(Stack::Get().database_url(), *ref);
  }();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto n = follower->CatchUp();
    ASSERT_TRUE(n.ok()) << n.status();
    const std::string pending = Stack::Get().Scalar(
        "SELECT count(*) FROM core.changes c, s117.feed_cursor f WHERE f.consumer = 's117' "
        "AND (c.txid, c.seq) > (f.txid, f.seq)");
    if (pending == "0" || std::chrono::steady_clock::now() > give_up) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace icr::test
