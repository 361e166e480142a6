// icr-bench: measures the hot paths of a running icr-server against this machine's own limits
// (the gRPC health check for the read path, a raw COPY for the write path), and the server's
// peak memory in each phase. Prints a table and writes JSON.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <cxxopts.hpp>
#include <fstream>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <random>

#include "clients/bench/load.h"
#include "icr/v1/careplan.grpc.pb.h"
#include "icr/v1/performance.grpc.pb.h"
#include "icr/v1/record.grpc.pb.h"
#include "icr/v1/s117.grpc.pb.h"
#include "clients/bench/fhir_phase.h"
#include "clients/bench/import_phase.h"
#include "clients/bench/sql/statements.h"
#include "services/common/auth.h"
#include "services/common/config.h"
#include "services/common/db.h"
#include "tests/support/builders.h"

namespace {
using icr::bench::LoadResult;
using icr::bench::RunLoad;
using json = nlohmann::json;
namespace sql = icr::bench::sql;  // the benchmark's own statements (clients/bench/sql)

struct Options {
  std::string server, token, analyst_token, council_token, database_url, fhir, replica;
  int server_pid = 0;
  std::chrono::milliseconds duration{5000};
  std::vector<int> callers{1, 8, 32};
  int import_events = 100000;
  int import_people = 2000;
  std::string kpi_month;
  std::set<std::string> phases;
};

std::shared_ptr<grpc::Channel> Channel(const std::string& target, int index) {
  grpc::ChannelArguments args;
  args.SetInt("icr.bench.channel",
              index);  // a distinct argument gives each caller its own TCP connection
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token, int seconds = 30) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->AddMetadata("x-purpose-of-use", "benchmark");
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
}

json Row(const std::string& phase, const std::string& what, const LoadResult& r, double rss) {
  return {{"phase", phase},     {"what", what},       {"callers", r.callers},
          {"calls", r.calls},   {"errors", r.errors}, {"qps", r.qps},
          {"p50_ms", r.p50_ms}, {"p99_ms", r.p99_ms}, {"peak_rss_mb", rss}};
}

bool HealthCheck(grpc::GenericStub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  // HealthCheckRequest{service: ""} is empty on the wire, but a message needs a slice.
  grpc::Slice empty(std::string{});
  grpc::ByteBuffer request(&empty, 1), response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) { done.set_value(s); });
  return done.get_future().get().ok();
}

// GetIntegratedRecord through the callback API, as HealthCheck calls the health service, so
// the two differ only in what the server does.
bool ReadRecord(icr::v1::RecordService::Stub& stub, const std::string& token,
                const icr::v1::GetIntegratedRecordRequest& req, icr::v1::IntegratedRecord& rec) {
  auto ctx = Ctx(token);
  std::promise<grpc::Status> done;
  stub.async()->GetIntegratedRecord(ctx.get(), &req, &rec,
                                    [&](grpc::Status s) { done.set_value(std::move(s)); });
  return done.get_future().get().ok();
}

// GetIntegratedRecord of people spread over the list, by `callers` callers on channels[0..].
LoadResult ReadLoad(const std::vector<std::shared_ptr<grpc::Channel>>& channels, int callers,
                    std::chrono::milliseconds duration, const std::string& token,
                    const std::vector<std::string>& people) {
  std::vector<std::unique_ptr<icr::v1::RecordService::Stub>> stubs;
  for (int i = 0; i < callers; ++i) stubs.push_back(icr::v1::RecordService::NewStub(channels[i]));
  return RunLoad(callers, duration, [&](int c, int64_t i) {
    icr::v1::GetIntegratedRecordRequest req;
    req.set_nhs_number(people[(static_cast<size_t>(c) * 7919 + i * 104729) % people.size()]);
    icr::v1::IntegratedRecord rec;
    return ReadRecord(*stubs[c], token, req, rec) && rec.has_person();
  });
}

// Channels that spread calls over every server of a comma-separated list of IPv4 host:port
// addresses (gRPC's ipv4: target and round_robin policy, as clients of a headless Kubernetes
// Service do with dns:///); empty when an address is not IPv4.
std::vector<std::shared_ptr<grpc::Channel>> RoundRobinChannels(const std::string& servers,
                                                                int count) {
  std::vector<std::shared_ptr<grpc::Channel>> out;
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("icr.bench.channel", i);
    args.SetServiceConfigJSON(R"({"loadBalancingConfig":[{"round_robin":{}}]})");
    out.push_back(
        grpc::CreateCustomChannel("ipv4:" + servers, grpc::InsecureChannelCredentials(), args));
  }
  return out;
}

// Throws on a database failure: the benchmark cannot go on without its data.
void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) throw std::runtime_error(std::string(what) + ": " + s.ToString());
}

std::vector<std::string> Column(const pqxx::result& r, int column = 0) {
  std::vector<std::string> out;
  for (const auto& row : r) out.emplace_back(row[column].c_str());
  return out;
}

// Empties the store's kept integrated-record bodies and moves every record's version on
// (migrations 0010, 0013), so the next read of each person builds it, whatever the server holds
// in memory: the cold read path.
void EmptyRecordCache(icr::Database& db) {
  auto empty = [](pqxx::work& tx) {
    icr::Exec(tx, sql::kEmptyBodies);
    icr::Exec(tx, sql::kNextEpoch);
    return absl::OkStatus();
  };
  // Every body may be kept (at a million people, gigabytes): longer than a call's usual limit.
  Check(db.Write(empty, std::chrono::minutes(10)), "emptying the kept record bodies");
}

std::vector<std::string> SomePeople(icr::Database& db, const std::string& token, int limit) {
  std::vector<std::string> out;
  Check(db.Read([&](pqxx::nontransaction& tx) {
    out = Column(icr::Exec(tx, sql::kSomePeople, limit, pqxx::binarystring(icr::TokenDigest(token))));
    return absl::OkStatus();
  }),
        "picking people");
  return out;
}

// The council with the most open S117 entitlements ("" for none).
std::string BusiestCouncil(icr::Database& db) {
  std::vector<std::string> out;
  Check(db.Read([&](pqxx::nontransaction& tx) {
    out = Column(icr::Exec(tx, sql::kBusiestCouncil));
    return absl::OkStatus();
  }),
        "finding a council");
  return out.empty() ? std::string() : out[0];
}

std::vector<std::string> SomePlans(icr::Database& db, const std::string& token, int limit) {
  std::vector<std::string> out;
  Check(db.Read([&](pqxx::nontransaction& tx) {
    out = Column(icr::Exec(tx, sql::kSomePlans, limit, pqxx::binarystring(icr::TokenDigest(token))));
    return absl::OkStatus();
  }),
        "picking care plans");
  return out;
}

// The event the write phases send (tests/support/builders.h).
icr::v1::Event EmploymentEvent(const std::string& nhs, const std::string& id) {
  return icr::build::EmploymentStatus(nhs, id, "01", "2026-01-15");
}

// Runs the phases of o and writes the report; throws when the database cannot be read.
int Bench(const Options& o, const std::string& json_file) {
  icr::bench::RssSampler rss(o.server_pid);
  json report = json::array();
  auto print = [&](const json& row) {
    report.push_back(row);
    std::printf(
        "%-8s %-44s %4d callers %10.0f /s  p50 %7.2f ms  p99 %7.2f ms  errors %lld  peak RSS %6.1f "
        "MB\n",
        row["phase"].get<std::string>().c_str(), row["what"].get<std::string>().c_str(),
        row["callers"].get<int>(), row["qps"].get<double>(), row["p50_ms"].get<double>(),
        row["p99_ms"].get<double>(), static_cast<long long>(row["errors"].get<int64_t>()),
        row["peak_rss_mb"].get<double>());
    std::fflush(stdout);
  };
  const int max_callers = *std::max_element(o.callers.begin(), o.callers.end());
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < max_callers; ++i) channels.push_back(Channel(o.server, i));
  icr::Database db(o.database_url, 1);
  const auto people = SomePeople(db, o.token, 20000);
  if (people.empty()) {
    std::cerr << "icr-bench: no people the token's organisation sees; seed the database first "
                 "(icrctl demo seed)\n";
    return 1;
  }
  rss.Take();

  if (o.phases.count("read")) {
    // First reads: with the body cache emptied, each call reads a person not read before, so
    // it builds the record from the store and keeps it (as after a write to that person).
    EmptyRecordCache(db);
    std::vector<std::unique_ptr<icr::v1::RecordService::Stub>> readers;
    for (int i = 0; i < 8; ++i) readers.push_back(icr::v1::RecordService::NewStub(channels[i]));
    std::atomic<size_t> next{0};
    auto read_next = [&](int c, int64_t) {
      icr::v1::GetIntegratedRecordRequest req;
      req.set_nhs_number(people[next++ % people.size()]);
      icr::v1::IntegratedRecord rec;
      return ReadRecord(*readers[c], o.token, req, rec);
    };
    print(Row("read", "GetIntegratedRecord, first read of each person",
              RunLoad(8, o.duration, read_next), rss.Take()));
    // Not measured: the rest of the people read once, so the runs below read cached bodies.
    while (next < people.size()) RunLoad(8, std::chrono::milliseconds(500), read_next);
    for (int callers : o.callers) {
      std::vector<std::unique_ptr<grpc::GenericStub>> health;
      for (int i = 0; i < callers; ++i)
        health.push_back(std::make_unique<grpc::GenericStub>(channels[i]));
      auto h =
          RunLoad(callers, o.duration, [&](int c, int64_t) { return HealthCheck(*health[c]); });
      print(Row("read", "health check (baseline)", h, rss.Take()));
      auto g = ReadLoad(channels, callers, o.duration, o.token, people);
      auto row = Row("read", "GetIntegratedRecord", g, rss.Take());
      row["vs_health_pct"] = h.qps > 0 ? 100.0 * g.qps / h.qps : 0;
      print(row);
    }
  }

  if (o.phases.count("fhir")) {
    if (o.fhir.empty()) {
      std::cerr << "icr-bench: fhir: --fhir is needed (the FHIR API's host:port)\n";
    } else {
      icr::bench::FhirPhaseOptions f;
      f.fhir = o.fhir;
      f.token = o.token;
      Check(db.Read([&](pqxx::nontransaction& tx) {
        f.person_ids = Column(icr::Exec(tx, sql::kSomePeople, 20000, pqxx::binarystring(icr::TokenDigest(o.token))), 1);
        return absl::OkStatus();
      }),
            "picking people");
      f.callers = {1, 8};
      f.duration = o.duration;
      if (!icr::bench::RunFhirPhase(f, channels, [&] { return rss.Take(); }, print)) return 1;
    }
  }

  if (o.phases.count("replicas")) {
    auto ipv4 = [](const std::string& a) {
      return a.find_first_not_of("0123456789.:") == std::string::npos;
    };
    if (o.replica.empty() || !ipv4(o.replica) || !ipv4(o.server)) {
      std::cerr << "icr-bench: replicas: skipped (--replica names a second icr-server on the "
                   "same database; both addresses as IPv4 host:port)\n";
    } else {
      // The read path through one server, then spread over two by round_robin: whether a
      // second server process adds throughput on this machine, or the limit lies elsewhere
      // (the database, the cores they share). Each server first reads every person once, so
      // both serve from their kept bodies as in the read phase.
      const auto both = RoundRobinChannels(o.server + "," + o.replica, max_callers);
      auto replica = Channel(o.replica, 0);
      auto warm = icr::v1::RecordService::NewStub(replica);
      std::atomic<size_t> next{0};
      while (next < people.size()) {
        RunLoad(8, std::chrono::milliseconds(500), [&](int, int64_t) {
          icr::v1::GetIntegratedRecordRequest req;
          req.set_nhs_number(people[next++ % people.size()]);
          icr::v1::IntegratedRecord rec;
          return ReadRecord(*warm, o.token, req, rec);
        });
      }
      for (int callers : o.callers) {
        auto one = ReadLoad(channels, callers, o.duration, o.token, people);
        print(Row("replicas", "GetIntegratedRecord, 1 server", one, rss.Take()));
        auto two = ReadLoad(both, callers, o.duration, o.token, people);
        auto row = Row("replicas", "GetIntegratedRecord, 2 servers (round_robin)", two, rss.Take());
        row["vs_one_server_pct"] = one.qps > 0 ? 100.0 * two.qps / one.qps : 0;
        print(row);
      }
    }
  }

  if (o.phases.count("import")) {
    icr::bench::ImportPhaseOptions imp;
    imp.channel = channels[0];
    imp.token = o.token;
    imp.council_token = o.council_token;
    imp.people = o.import_people;
    icr::bench::RunImportPhase(imp, [&] { return rss.Take(); }, print);
  }

  if (o.phases.count("write")) {
    const std::string run =
        std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    std::vector<std::unique_ptr<icr::v1::RecordService::Stub>> stubs;
    for (int i = 0; i < 8; ++i)
      stubs.push_back(icr::v1::RecordService::NewStub(channels[i % channels.size()]));
    auto single = RunLoad(8, o.duration, [&](int c, int64_t i) {
      icr::v1::RecordEventsRequest req;
      *req.add_events() =
          EmploymentEvent(people[(c * 131 + i) % people.size()],
                          "bench-" + run + "-" + std::to_string(c) + "-" + std::to_string(i));
      icr::v1::RecordEventsResponse resp;
      return stubs[c]->RecordEvents(Ctx(o.token).get(), req, &resp).ok();
    });
    print(Row("write", "RecordEvents (1 event per call)", single, rss.Take()));

    // ImportEvents: one stream of N events.
    auto stub = icr::v1::RecordService::NewStub(channels[0]);
    auto ctx = Ctx(o.token, 3600);
    icr::v1::ImportSummary summary;
    const auto t0 = std::chrono::steady_clock::now();
    {
      auto stream = stub->ImportEvents(ctx.get(), &summary);
      icr::v1::ImportItem item;
      for (int i = 0; i < o.import_events; ++i) {
        *item.mutable_event() = EmploymentEvent(people[i % people.size()],
                                                "bench-imp-" + run + "-" + std::to_string(i));
        if (!stream->Write(item)) break;
      }
      stream->WritesDone();
      auto s = stream->Finish();
      if (!s.ok()) std::cerr << "ImportEvents: " << s.error_message() << "\n";
    }
    const double import_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    LoadResult imp;
    imp.callers = 1;
    imp.calls = summary.stored();
    imp.errors = summary.rejected();
    imp.seconds = import_s;
    imp.qps = summary.stored() / import_s;
    auto import_row = Row("write", "ImportEvents (events, 1 stream)", imp, rss.Take());

    // Baseline: the same rows COPYed into a scratch table by this process.
    LoadResult copy;
    {
      pqxx::connection c(o.database_url);
      pqxx::work tx(c);
      tx.exec("CREATE TEMP TABLE bench_copy (LIKE core.event INCLUDING DEFAULTS)");
      const auto c0 = std::chrono::steady_clock::now();
      pqxx::stream_to out(tx, "bench_copy",
                          std::vector<std::string>{"source_org", "event_id", "person_id", "kind",
                                                   "content_hash", "payload"});
      const std::string hash = "\\x00";
      for (int i = 0; i < o.import_events; ++i) {
        out << std::make_tuple(
            std::string("BENCH"), "bench-copy-" + std::to_string(i),
            std::string("00000000-0000-0000-0000-000000000000"), std::string("employment_status"),
            hash,
            std::string(
                "{\"employment_status\":{\"code\":\"01\",\"recorded_date\":\"2026-01-15\"}}"));
      }
      out.complete();
      tx.commit();
      copy.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
    }
    copy.callers = 1;
    copy.calls = o.import_events;
    copy.qps = o.import_events / copy.seconds;
    print(Row("write", "raw COPY (baseline)", copy, rss.Take()));
    import_row["vs_copy_pct"] = 100.0 * imp.qps / copy.qps;
    print(import_row);
  }

  if (o.phases.count("queries")) {
    // ListRegister: a council's S117 officer asks for its overdue reviews (first page of 50).
    const std::string council = BusiestCouncil(db);
    if (council.empty()) {
      std::cerr << "icr-bench: queries: no open S117 entitlements; seed with demo seed\n";
    } else {
      auto officer =
          icr::Authenticator::CreateToken(db, council, icr::Role::kS117Officer, "icr-bench");
      if (!officer.ok()) {
        std::cerr << "icr-bench: queries: " << officer.status().ToString() << "\n";
        return 1;
      }
      std::vector<std::unique_ptr<icr::v1::S117RegisterService::Stub>> stubs;
      for (int i = 0; i < 8; ++i)
        stubs.push_back(icr::v1::S117RegisterService::NewStub(channels[i % channels.size()]));
      const std::time_t now = std::time(nullptr);
      char as_of[16];
      std::strftime(as_of, sizeof as_of, "%Y-%m-%d", std::gmtime(&now));
      auto l = RunLoad(8, o.duration, [&](int c, int64_t) {
        icr::v1::ListRegisterRequest req;
        req.mutable_filter()->set_council_code(council);
        req.mutable_filter()->set_review_overdue_as_of(as_of);
        req.mutable_page()->set_page_size(50);
        icr::v1::ListRegisterResponse resp;
        return stubs[c]->ListRegister(Ctx(*officer).get(), req, &resp).ok();
      });
      print(Row("queries", "ListRegister (council, overdue)", l, rss.Take()));
      // The officer's token was for this run only.
      Check(icr::Authenticator::RevokeTokens(db, {*officer}), "revoking the officer's token");
    }
    const auto plans = SomePlans(db, o.token, 20000);
    if (plans.empty()) {
      std::cerr << "icr-bench: queries: no open care plans; seed with demo seed\n";
    } else {
      std::vector<std::unique_ptr<icr::v1::CarePlanService::Stub>> stubs;
      for (int i = 0; i < 8; ++i)
        stubs.push_back(icr::v1::CarePlanService::NewStub(channels[i % channels.size()]));
      auto g = RunLoad(8, o.duration, [&](int c, int64_t i) {
        icr::v1::GetCarePlanRequest req;
        req.set_plan_id(plans[(static_cast<size_t>(c) * 7919 + i * 104729) % plans.size()]);
        icr::v1::CarePlan plan;
        return stubs[c]->GetCarePlan(Ctx(o.token).get(), req, &plan).ok();
      });
      print(Row("queries", "GetCarePlan", g, rss.Take()));
    }
  }

  if ((o.phases.count("kpi") || o.phases.count("dashboard-only")) && !o.analyst_token.empty() &&
      !o.kpi_month.empty()) {
    auto perf = icr::v1::PerformanceService::NewStub(channels[0]);
    auto compute = [&](const std::string& from, const std::string& to) {
      icr::v1::ComputeIndicatorsRequest req;
      req.set_from_month(from);
      req.set_to_month(to);
      icr::v1::ComputeIndicatorsResponse resp;
      const auto t0 = std::chrono::steady_clock::now();
      auto s = perf->ComputeIndicators(Ctx(o.analyst_token, 3600).get(), req, &resp);
      LoadResult r;
      r.callers = 1;
      r.calls = s.ok() ? 1 : 0;
      r.errors = s.ok() ? 0 : 1;
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      r.p50_ms = r.p99_ms = r.seconds * 1000;
      if (!s.ok()) std::cerr << "ComputeIndicators: " << s.error_message() << "\n";
      return r;
    };
    int y = std::stoi(o.kpi_month.substr(0, 4)), m = std::stoi(o.kpi_month.substr(5, 2));
    m -= 23;
    while (m <= 0) {
      m += 12;
      --y;
    }
    char from24[32];
    std::snprintf(from24, sizeof from24, "%04d-%02d", y, m);
    if (!o.phases.count("dashboard-only")) {
      print(Row("kpi", "compute all indicators, 1 month", compute(o.kpi_month, o.kpi_month),
                rss.Take()));
      print(Row("kpi", "compute all indicators, 24 months", compute(from24, o.kpi_month),
                rss.Take()));
    }
    std::vector<std::unique_ptr<icr::v1::PerformanceService::Stub>> stubs;
    for (int i = 0; i < 8; ++i)
      stubs.push_back(icr::v1::PerformanceService::NewStub(channels[i % channels.size()]));
    auto d = RunLoad(8, o.duration, [&](int c, int64_t) {
      icr::v1::GetDashboardRequest req;
      req.set_month(o.kpi_month);
      icr::v1::Dashboard dash;
      return stubs[c]->GetDashboard(Ctx(o.analyst_token).get(), req, &dash).ok();
    });
    print(Row("kpi", "GetDashboard", d, rss.Take()));
  }

  if (!json_file.empty()) {
    std::ofstream(json_file) << report.dump(2) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  icr::DisableMutexDeadlockDetection();
  cxxopts::Options cli(
      "icr-bench",
      "Benchmark of a running icr-server: read path, write path, register and "
      "plan queries, KPIs, and the server's peak memory, each beside a baseline "
      "measured in the same run. deploy/bench.sh starts a private stack and runs it.");
  // clang-format off
  cli.add_options()
    ("server", "icr-server address", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_SERVER", "127.0.0.1:50051")))
    ("token", "token of the organisation that sent the data (role system)", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_TOKEN", "")))
    ("analyst-token", "performance_analyst or admin token for the KPI phase", cxxopts::value<std::string>()->default_value(""))
    ("council-token", "a council's system token: the import phase also loads a CLD return (none: MHSDS only)", cxxopts::value<std::string>()->default_value(""))
    ("database-url", "the same database, for the COPY baseline and to pick people", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_DATABASE_URL", "")))
    ("server-pid", "pid of icr-server, to sample its memory", cxxopts::value<int>()->default_value("0"))
    ("callers", "comma-separated numbers of concurrent callers for the read phase", cxxopts::value<std::string>()->default_value("1,8,32"))
    ("seconds", "length of each load measurement", cxxopts::value<int>()->default_value("5"))
    ("import-events", "events in the ImportEvents stream and the COPY baseline", cxxopts::value<int>()->default_value("100000"))
    ("import-people", "people per route in the import phase (MHSDS rows: 5 per person)", cxxopts::value<int>()->default_value("2000"))
    ("kpi-month", "the latest month for the KPI phase (YYYY-MM)", cxxopts::value<std::string>()->default_value(""))
    ("fhir", "the FHIR API's host:port, for the fhir phase", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_FHIR", "")))
    ("token-pepper-file", "the server's token pepper file, if it has one (to find the token's organisation in the database)", cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_TOKEN_PEPPER_FILE", "")))
    ("replica", "a second icr-server on the same database (IPv4 host:port), for the replicas phase", cxxopts::value<std::string>()->default_value(""))
    ("phases", "comma-separated: read,fhir,replicas,write,import,queries,kpi (import: the MHSDS and CLD dataset routes beside ImportEvents; dashboard-only: kpi without the recomputes; fhir needs --fhir, replicas --replica)", cxxopts::value<std::string>()->default_value("read,fhir,replicas,write,import,queries,kpi"))
    ("json", "write the report as JSON to this file", cxxopts::value<std::string>()->default_value(""))
    ("h,help", "show this help");
  // clang-format on
  cxxopts::ParseResult args;
  try {
    args = cli.parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "icr-bench: " << e.what() << "\n";
    return 2;
  }
  if (args.count("help")) {
    std::cout << cli.help() << "\n";
    return 0;
  }
  if (auto pepper = icr::LoadTokenPepper(args["token-pepper-file"].as<std::string>()); !pepper.ok()) {
    std::cerr << "icr-bench: " << pepper.message() << "\n";
    return 2;
  }
  Options o;
  o.server = args["server"].as<std::string>();
  o.token = args["token"].as<std::string>();
  o.analyst_token = args["analyst-token"].as<std::string>();
  o.council_token = args["council-token"].as<std::string>();
  o.database_url = args["database-url"].as<std::string>();
  o.fhir = args["fhir"].as<std::string>();
  o.replica = args["replica"].as<std::string>();
  o.server_pid = args["server-pid"].as<int>();
  o.duration = std::chrono::seconds(args["seconds"].as<int>());
  o.import_events = args["import-events"].as<int>();
  o.import_people = args["import-people"].as<int>();
  o.kpi_month = args["kpi-month"].as<std::string>();
  {
    std::stringstream ss(args["phases"].as<std::string>());
    std::string p;
    while (std::getline(ss, p, ',')) o.phases.insert(p);
  }
  {
    std::stringstream ss(args["callers"].as<std::string>());
    std::string n;
    o.callers.clear();
    while (std::getline(ss, n, ',')) {
      const int callers = std::atoi(n.c_str());
      if (callers < 1 || callers > 256) {
        std::cerr << "icr-bench: --callers: each must be a number from 1 to 256\n";
        return 2;
      }
      o.callers.push_back(callers);
    }
    if (o.callers.empty()) {
      std::cerr << "icr-bench: --callers: at least one number is needed\n";
      return 2;
    }
  }
  if (o.token.empty() || o.database_url.empty()) {
    std::cerr << "icr-bench: --token and --database-url are required\n";
    return 2;
  }

  try {
    return Bench(o, args["json"].as<std::string>());
  } catch (const std::exception& e) {
    std::cerr << "icr-bench: " << e.what() << "\n";
    return 1;
  }
}
