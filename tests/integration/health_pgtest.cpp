// The operable-replica surface of a Host, through real gRPC and HTTP: the health-only port's
// answers per name (and the main port's, kept in step), readiness NOT_SERVING while draining and
// while the database is gone, the Prometheus scrape after some calls, and request ids.
#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <regex>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/metrics.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

const std::vector<std::string> kServiceNames = {"icr.v1.RecordService", "icr.v1.CarePlanService",
                                                "icr.v1.PerformanceService",
                                                "icr.v1.S117RegisterService"};

struct Served {
  std::string url;
  std::unique_ptr<Database> db;
  std::unique_ptr<Host> host;
  std::shared_ptr<grpc::Channel> main;    // the service port
  std::shared_ptr<grpc::Channel> health;  // the health-only port
};

Served Serve(const std::string& prefix, std::chrono::milliseconds drain) {
  Served s;
  s.url = Stack::NewDatabase(prefix);
  s.db = std::make_unique<Database>(s.url, 4);
  HostOptions options;
  options.services = KnownServices();
  options.health_listen = "127.0.0.1:0";
  options.metrics_listen = "127.0.0.1:0";
  options.drain = drain;
  auto host = Host::Start(*s.db, options);
  EXPECT_TRUE(host.ok()) << host.status();
  s.host = std::move(*host);
  EXPECT_NE(s.host->health_port(), 0);
  EXPECT_NE(s.host->metrics_port(), 0);
  s.main = grpc::CreateChannel("127.0.0.1:" + std::to_string(s.host->port()),
                               grpc::InsecureChannelCredentials());
  s.health = grpc::CreateChannel("127.0.0.1:" + std::to_string(s.host->health_port()),
                                 grpc::InsecureChannelCredentials());
  return s;
}

// The status Check answers for `service`, or the call's error code as a negative number.
int Check(const std::shared_ptr<grpc::Channel>& channel, const std::string& service) {
  HealthCheckRequest req;
  req.set_service(service);
  HealthCheckResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  const auto status = Health::NewStub(channel)->Check(&ctx, req, &resp);
  if (!status.ok()) return -static_cast<int>(status.error_code());
  return resp.status();
}

constexpr int kServing = HealthCheckResponse::SERVING;
constexpr int kNotServing = HealthCheckResponse::NOT_SERVING;

// Polls until Check answers `want` (up to `within`); the last answer.
int AwaitCheck(const std::shared_ptr<grpc::Channel>& channel, const std::string& service, int want,
               std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  int got = Check(channel, service);
  while (got != want && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    got = Check(channel, service);
  }
  return got;
}

std::string Scrape(int port) {
  httplib::Client http("127.0.0.1", port);
  auto res = http.Get("/metrics");
  EXPECT_TRUE(res) << "no answer from /metrics";
  if (!res) return "";
  EXPECT_EQ(res->status, 200);
  return res->body;
}

// The value of the sample line that starts with `series` (name and labels exactly), or -1.
double Sample(const std::string& body, const std::string& series) {
  const auto at = body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(body.c_str() + at + series.size() + 2, nullptr);
}

// How much the sample grew from `before` to `after` (a sample not there yet counts as 0).
double Grew(const std::string& before, const std::string& after, const std::string& series) {
  return Sample(after, series) - std::max(0.0, Sample(before, series));
}

TEST(HealthPort, AnswersLivenessReadinessAndNothingElse) {
  auto s = Serve("health_names", std::chrono::milliseconds(0));
  for (const std::string name : {"", "liveness"}) {
    EXPECT_EQ(Check(s.health, name), kServing) << "'" << name << "'";
    EXPECT_EQ(Check(s.main, name), kServing) << "'" << name << "' on the main port";
  }
  for (const auto& name : kServiceNames) {
    EXPECT_EQ(Check(s.health, name), kServing) << name;
    EXPECT_EQ(Check(s.main, name), kServing) << name << " on the main port";
  }
  EXPECT_EQ(Check(s.health, "icr.v1.NoSuchService"), -grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Check(s.main, "icr.v1.NoSuchService"), -grpc::StatusCode::NOT_FOUND);

  // An app RPC on the health port: nothing there but health.
  icr::v1::GetPersonRequest req;
  req.set_nhs_number("9434765919");
  icr::v1::Person person;
  grpc::ClientContext ctx;
  const auto status = icr::v1::RecordService::NewStub(s.health)->GetPerson(&ctx, req, &person);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
}

TEST(HealthPort, MalformedAddressesRefusedNamingTheFlag) {
  const std::string url = Stack::NewDatabase("health_flags");
  Database db(url, 1);
  HostOptions options;
  options.services = {"record"};
  options.health_listen = "nonsense";
  auto host = Host::Start(db, options);
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(host.status().message().find("--health-listen"), std::string::npos) << host.status();
  options.health_listen.clear();
  options.metrics_listen = "127.0.0.1:port";
  host = Host::Start(db, options);
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(host.status().message().find("--metrics-listen"), std::string::npos) << host.status();
}

// gRPC would share a port in use (SO_REUSEPORT) and split the calls between two processes: a
// second server on the service port or the health port is refused instead.
TEST(HealthPort, PortsInUseRefused) {
  auto s = Serve("health_reuse", std::chrono::milliseconds(0));
  HostOptions options;
  options.services = {"record"};
  options.listen = "127.0.0.1:" + std::to_string(s.host->port());
  auto second = Host::Start(*s.db, options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
  options.listen = "127.0.0.1:0";
  options.health_listen = "127.0.0.1:" + std::to_string(s.host->health_port());
  second = Host::Start(*s.db, options);
  ASSERT_FALSE(second.ok()) << "a second health port on " << options.health_listen;
}

TEST(HealthPort, ReadinessNotServingWhileDrainingThenClosed) {
  auto s = Serve("health_drain", std::chrono::milliseconds(1500));
  ASSERT_EQ(Check(s.health, "icr.v1.RecordService"), kServing);
  // A Watch on the health port sees SERVING, then NOT_SERVING when the drain begins.
  grpc::ClientContext watch_ctx;
  watch_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  HealthCheckRequest watch_req;
  watch_req.set_service("icr.v1.RecordService");
  auto watch = Health::NewStub(s.health)->Watch(&watch_ctx, watch_req);
  HealthCheckResponse seen;
  ASSERT_TRUE(watch->Read(&seen));
  EXPECT_EQ(seen.status(), kServing);
  std::thread shutdown([&] { s.host->Shutdown(); });
  ASSERT_TRUE(watch->Read(&seen));
  EXPECT_EQ(seen.status(), kNotServing);
  EXPECT_EQ(AwaitCheck(s.health, "icr.v1.RecordService", kNotServing, std::chrono::seconds(1)),
            kNotServing);
  // Draining: not ready on either port, still alive, and the main port still answers calls.
  EXPECT_EQ(Check(s.main, "icr.v1.RecordService"), kNotServing);
  EXPECT_EQ(Check(s.health, ""), kServing);
  EXPECT_EQ(Check(s.main, ""), kServing);
  icr::v1::GetPersonRequest req;  // no id: refused by the handler, so the server took the call
  icr::v1::Person person;
  grpc::ClientContext ctx;
  EXPECT_EQ(icr::v1::RecordService::NewStub(s.main)->GetPerson(&ctx, req, &person).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  shutdown.join();
  EXPECT_FALSE(watch->Read(&seen));  // the stream ends with the server
  watch->Finish();
  EXPECT_EQ(Check(s.health, ""), -grpc::StatusCode::UNAVAILABLE);
}

TEST(HealthPort, ReadinessNotServingWithoutTheDatabase) {
  auto s = Serve("health_nodb", std::chrono::milliseconds(0));
  ASSERT_EQ(Check(s.health, "icr.v1.S117RegisterService"), kServing);
  const std::string name = s.url.substr(s.url.rfind("dbname=") + 7);
  {
    pqxx::connection admin(std::string(std::getenv("ICR_TEST_PG")) + " dbname=postgres");
    pqxx::nontransaction tx(admin);
    tx.exec("DROP DATABASE " + tx.quote_name(name) + " WITH (FORCE)");
  }
  EXPECT_EQ(
      AwaitCheck(s.health, "icr.v1.S117RegisterService", kNotServing, std::chrono::seconds(5)),
      kNotServing);
  EXPECT_EQ(Check(s.main, "icr.v1.S117RegisterService"), kNotServing);
  EXPECT_EQ(Check(s.health, "liveness"), kServing);
}

TEST(Metrics, ScrapeCountsRpcsByCodeWithPoolFeedAndImportGauges) {
  auto s = Serve("metrics", std::chrono::milliseconds(0));
  auto token = Authenticator::CreateToken(*s.db, "RGD", Role::kSystem, "test");
  ASSERT_TRUE(token.ok()) << token.status();
  auto record = icr::v1::RecordService::NewStub(s.main);
  // The registry is the process's: other tests' calls are counted too.
  const std::string before = Scrape(s.host->metrics_port());

  // One person, imported (a change in the feed, an imported row).
  icr::v1::ImportSummary summary;
  {
    auto ctx = Ctx(*token);
    auto writer = record->ImportEvents(ctx.get(), &summary);
    icr::v1::ImportItem item;
    *item.mutable_person() = MakePerson(NextNhsNumber());
    const std::string nhs = item.person().nhs_number();
    ASSERT_TRUE(writer->Write(item));
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
    ASSERT_EQ(summary.stored(), 1);

    icr::v1::GetPersonRequest req;
    req.set_nhs_number(nhs);
    icr::v1::Person person;
    EXPECT_TRUE(record->GetPerson(Ctx(*token).get(), req, &person).ok());
  }
  icr::v1::GetPersonRequest unknown;
  unknown.set_nhs_number(NextNhsNumber());
  icr::v1::Person person;
  EXPECT_EQ(record->GetPerson(Ctx(*token).get(), unknown, &person).error_code(),
            grpc::StatusCode::NOT_FOUND);
  icr::v1::GetPersonRequest bad;
  bad.set_nhs_number("12");
  EXPECT_EQ(record->GetPerson(Ctx(*token).get(), bad, &person).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  metrics::SetGauge("icr_singleton_held", "Singleton work this replica holds.",
                    {{"work", "s117_follower"}}, 1);

  const std::string body = Scrape(s.host->metrics_port());
  const std::string get =
      "grpc_method=\"GetPerson\",grpc_service=\"icr.v1.RecordService\",grpc_type=\"unary\"";
  EXPECT_EQ(Grew(before, body, "grpc_server_started_total{" + get + "}"), 3) << body;
  for (const std::string code : {"OK", "NotFound", "InvalidArgument"}) {
    EXPECT_EQ(
        Grew(before, body, "grpc_server_handled_total{grpc_code=\"" + code + "\"," + get + "}"), 1)
        << code;
  }
  EXPECT_EQ(Grew(before, body, "grpc_server_handling_seconds_count{" + get + "}"), 3);
  EXPECT_EQ(Grew(before, body, "grpc_server_handling_seconds_bucket{" + get + ",le=\"+Inf\"}"), 3);
  const std::string import =
      "grpc_method=\"ImportEvents\",grpc_service=\"icr.v1.RecordService\","
      "grpc_type=\"client_stream\"";
  EXPECT_EQ(Grew(before, body, "grpc_server_msg_received_total{" + import + "}"), 1);
  EXPECT_EQ(Grew(before, body, "grpc_server_msg_sent_total{" + import + "}"), 1);
  EXPECT_EQ(Grew(before, body, "icr_import_rows_total{kind=\"events\",outcome=\"stored\"}"), 1);
  EXPECT_EQ(Sample(body, "icr_db_pool_size{pool=\"primary\"}"), 4);
  EXPECT_GE(Sample(body, "icr_db_pool_open{pool=\"primary\"}"), 1);
  EXPECT_GE(Sample(body, "icr_db_pool_in_use{pool=\"primary\"}"), 0);
  EXPECT_GE(Sample(body, "icr_db_pool_acquired_total{pool=\"primary\"}"), 4);
  EXPECT_GE(Sample(body, "icr_change_feed_head_seq"), 1);
  EXPECT_GE(Sample(body, "icr_s117_follower_position"), 0);
  EXPECT_GE(Sample(body, "icr_s117_follower_lag_changes"), 0);
  EXPECT_EQ(Sample(body, "icr_singleton_held{work=\"s117_follower\"}"), 1);
}

TEST(RequestId, EchoedAndMadeUpWhenMissingAndAudited) {
  auto s = Serve("request_id", std::chrono::milliseconds(0));
  auto token = Authenticator::CreateToken(*s.db, "RGD", Role::kSystem, "test");
  ASSERT_TRUE(token.ok()) << token.status();
  auto record = icr::v1::RecordService::NewStub(s.main);
  icr::v1::UpsertPersonRequest upsert;
  *upsert.mutable_person() = MakePerson(NextNhsNumber());
  icr::v1::Person person;
  ASSERT_TRUE(record->UpsertPerson(Ctx(*token).get(), upsert, &person).ok());

  icr::v1::GetPersonRequest req;
  req.set_person_id(person.person_id());
  auto sent = Ctx(*token, {{"x-request-id", "req-given-1"}});
  ASSERT_TRUE(record->GetPerson(sent.get(), req, &person).ok());
  auto echoed = sent->GetServerInitialMetadata().find("x-request-id");
  ASSERT_NE(echoed, sent->GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(echoed->second.data(), echoed->second.size()), "req-given-1");

  auto none = Ctx(*token);
  ASSERT_TRUE(record->GetPerson(none.get(), req, &person).ok());
  auto made = none->GetServerInitialMetadata().find("x-request-id");
  ASSERT_NE(made, none->GetServerInitialMetadata().end());
  const std::string id(made->second.data(), made->second.size());
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{32}"))) << id;
  // The handler saw the made-up id: the read's audit row carries it.
  EXPECT_EQ(ScalarAt(s.url, "SELECT count(*) FROM core.audit WHERE request_id = '" + id + "'"),
            "1");
  EXPECT_EQ(ScalarAt(s.url, "SELECT count(*) FROM core.audit WHERE request_id = 'req-given-1'"),
            "1");
}

}  // namespace
}  // namespace icr::test
