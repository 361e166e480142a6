// RecordService.ImportDataset end to end: trust RW4's MHSDS month (tests/support/mhsds_fixture.h,
// per-table CSV written here) loaded with icrctl, resubmitted with a correction and a retraction
// through the RPC, loaded a third time unchanged; the record, the change feed, the S117
// candidates and the month's indicators checked against hand-worked answers, and the indicators
// against the same population loaded through ImportEvents into a second database.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "icr/v1/performance.grpc.pb.h"
#include "services/common/auth.h"
#include "services/datasets/dataset_csv.h"
#include "services/datasets/mhsds_map.h"
#include "tests/integration/harness.h"
#include "tests/support/mhsds_fixture.h"

namespace icr::test {
namespace {
using icr::v1::DatasetChunk;
using icr::v1::DatasetImportJob;

constexpr char kTrust[] = "RW4";

struct Loaded {
  grpc::Status status;
  std::vector<DatasetImportJob> stream;  // every job message the server sent
};

class DatasetImportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (auto* s : {&dataset_, &events_}) {
      auto own = StartOwnStack(s == &dataset_ ? "mhsds" : "mhsdsev", {"record", "performance"},
                               /*national_store=*/true);
      ASSERT_TRUE(own.ok()) << own.status();
      *s = new OwnStack(std::move(*own));
    }
  }
  static void TearDownTestSuite() {
    delete dataset_;
    delete events_;
  }

  static std::string Token(OwnStack& s, const std::string& org, Role role) {
    auto t = Authenticator::CreateToken(*s.db, org, role, "dataset import test");
    EXPECT_TRUE(t.ok());
    return *t;
  }

  // The month as CSV files in a fresh folder.
  static std::string WriteMonth(bool resubmission) {
    const std::string dir = ::testing::TempDir() + "mhsds-" + std::to_string(getpid()) +
                            (resubmission ? "-resubmitted" : "-first");
    std::filesystem::create_directories(dir);
    for (const auto& [file, text] : testing::MhsdsMonth(resubmission)) {
      std::ofstream(dir + "/" + file) << text;
    }
    return dir;
  }

  static Loaded Upload(OwnStack& s, const std::string& token, bool resubmission,
                       DatasetChunk::Kind kind = DatasetChunk::MHSDS) {
    auto ctx = Ctx(token);
    auto stream = icr::v1::RecordService::NewStub(s.channel)->ImportDataset(ctx.get());
    bool first = true;
    for (const auto& [file, text] : testing::MhsdsMonth(resubmission)) {
      DatasetChunk chunk;
      if (first) {
        chunk.set_kind(kind);
        chunk.set_format(DatasetChunk::CSV);
        first = false;
      }
      chunk.set_part_name(file);
      chunk.set_data(text);
      stream->Write(chunk);
    }
    stream->WritesDone();
    Loaded out;
    DatasetImportJob job;
    while (stream->Read(&job)) out.stream.push_back(job);
    out.status = stream->Finish();
    return out;
  }

  static std::string Sql(OwnStack& s, const std::string& sql) { return ScalarAt(s.url, sql); }

  // The month's England totals: indicator -> "numerator/denominator".
  static std::map<std::string, std::string> Kpis(OwnStack& s) {
    auto perf = icr::v1::PerformanceService::NewStub(s.channel);
    icr::v1::ComputeIndicatorsRequest compute;
    compute.set_from_month("2026-10");
    icr::v1::ComputeIndicatorsResponse computed;
    auto st = perf->ComputeIndicators(Ctx(Token(s, "QWO", Role::kPerformanceAnalyst)).get(),
                                      compute, &computed);
    EXPECT_TRUE(st.ok()) << st.error_message();
    icr::v1::GetDashboardRequest req;
    req.set_month("2026-10");
    req.mutable_scope()->set_type("all");
    icr::v1::Dashboard board;
    st = perf->GetDashboard(Ctx(Token(s, kTrust, Role::kSystem)).get(), req, &board);
    EXPECT_TRUE(st.ok()) << st.error_message();
    std::map<std::string, std::string> out;
    for (const auto& f : board.figures()) {
      if (f.breakdown_value().empty())
        out[f.indicator_id()] = f.numerator() + "/" + f.denominator();
    }
    return out;
  }

  static inline OwnStack* dataset_ = nullptr;
  static inline OwnStack* events_ = nullptr;
};

TEST_F(DatasetImportTest, MonthResubmissionAndTheSameKpisAsImportEvents) {
  OwnStack& s = *dataset_;
  const std::string trust = Token(s, kTrust, Role::kSystem);

  // 1. The month, with icrctl from a folder of CSV files.
  const std::string dir = WriteMonth(false);
  const auto run =
      RunCommand(std::string(ICRCTL) + " import mhsds " + dir +
                 " --server 127.0.0.1:" + std::to_string(s.host->port()) + " --token " + trust);
  EXPECT_EQ(run.exit_code, 3) << run.output;  // rows were refused
  EXPECT_NE(run.output.find("sender RW4, period 2026-10-01 to 2026-10-31"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("MHS201CareContact                3 rows"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("refused MHS001MPI row 5 NHSNumber"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("refused MHS401MHActPeriod row 4 LegalStatusCode"), std::string::npos);
  EXPECT_NE(run.output.find("people 4 (0 already in the record"), std::string::npos) << run.output;
  const std::string job_id = Sql(s,
                                 "SELECT job_id FROM core.dataset_import_job WHERE org_code = "
                                 "'RW4' ORDER BY started_at LIMIT 1");
  ASSERT_FALSE(job_id.empty());

  // The job, later, from the table (any replica): done, with its report.
  const auto shown =
      RunCommand(std::string(ICRCTL) + " import mhsds --json --job " + job_id +
                 " --server 127.0.0.1:" + std::to_string(s.host->port()) + " --token " + trust);
  EXPECT_EQ(shown.exit_code, 3) << shown.output;
  DatasetImportJob first;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(shown.output, &first).ok())
      << shown.output;
  EXPECT_EQ(first.state(), "done");
  const auto& r1 = first.report();
  EXPECT_EQ(r1.stored(), 24);  // every event mapped, the CTO's included
  EXPECT_EQ(r1.duplicates(), 0);
  EXPECT_EQ(r1.refused(), 3);  // P5, P5's referral, P1's informal period
  EXPECT_EQ(r1.people(), 4);         // P5 has no NHS number
  EXPECT_EQ(r1.people_matched(), 0);
  // P3's s3 (L2) and P4's s3 (L3, then the CTO): the register holds neither.
  ASSERT_EQ(r1.s117_candidates_size(), 2);
  EXPECT_EQ(r1.s117_candidates(0).detention_id(), "L2");
  EXPECT_EQ(r1.s117_candidates(1).detention_id(), "L3");
  EXPECT_EQ(first.rows_done(), first.rows_total());

  EXPECT_EQ(Sql(s, "SELECT count(*) FROM core.person"), "4");
  EXPECT_EQ(Sql(s, "SELECT family_name FROM core.person WHERE nhs_number = '" +
                       std::string(testing::kMhsdsP1) + "'"),
            datasets::kMhsdsNoName);
  EXPECT_EQ(Sql(s, "SELECT date_of_death FROM core.person WHERE nhs_number = '" +
                       std::string(testing::kMhsdsP2) + "'"),
            "2026-10-14");
  EXPECT_EQ(Sql(s, "SELECT count(*) FROM core.care_contact WHERE source_org = 'RW4'"), "3");
  EXPECT_EQ(Sql(s, "SELECT bed_type FROM core.hospital_spell WHERE spell_id = 'S2'"), "200");
  // FU72 by hand: S1 (10 Oct; the contact that day is day 0, no follow-up), S2 (12 Oct; died
  // 14 Oct, within 3 days: not counted), S3 (20 Oct; telephone contact 22 Oct): 1 of 2.
  auto kpis = Kpis(s);
  EXPECT_EQ(kpis["FU72"], "1/2");
  // New detentions in October: L1 (s2, 1 Oct) only; L2 (s3 from 5 Oct) follows on from it.
  EXPECT_EQ(kpis["DETENTIONS"].substr(0, 2), "1/");

  // 2. The resubmission: S2's discharge moved to 9 Oct (corrected), C3 gone (retracted).
  const std::string changes_before = Sql(s, "SELECT count(*) FROM core.changes");
  const Loaded again = Upload(s, trust, true);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  ASSERT_GE(again.stream.size(), 2u);
  EXPECT_EQ(again.stream.front().state(), "receiving");  // the job id comes first
  EXPECT_EQ(again.stream[1].state(), "running");         // then its progress
  EXPECT_FALSE(again.stream.front().job_id().empty());
  const auto& r2 = again.stream.back().report();
  EXPECT_EQ(again.stream.back().state(), "done");
  EXPECT_EQ(r2.stored(), 0);
  EXPECT_EQ(r2.corrected(), 1);
  EXPECT_EQ(r2.retracted(), 1);
  EXPECT_EQ(r2.duplicates(), 22);
  // The CTO (MHS404) stays stored across the resubmission.
  EXPECT_EQ(Sql(s, "SELECT count(*) FROM core.community_treatment_order"), "1");
  EXPECT_EQ(r2.people_matched(), 4);
  EXPECT_EQ(Sql(s, "SELECT count(*) FROM core.care_contact WHERE contact_id = 'C3'"), "0");
  EXPECT_EQ(Sql(s, "SELECT count(*) FROM core.event WHERE event_id = 'MHS201:C3'"), "0");
  EXPECT_EQ(Sql(s,
                "SELECT (discharged_at AT TIME ZONE 'UTC')::date FROM core.hospital_spell "
                "WHERE spell_id = 'S2'"),
            "2026-10-09");
  EXPECT_EQ(Sql(s, "SELECT count(*) FROM core.hospital_spell WHERE spell_id = 'S2'"), "1");
  EXPECT_EQ(Sql(s, "SELECT date_of_death FROM core.person WHERE nhs_number = '" +
                       std::string(testing::kMhsdsP2) + "'"),
            "2026-10-14");
  EXPECT_EQ(Sql(s,
                "SELECT count(*) FROM core.changes WHERE change_type = 'event_corrected' AND "
                "entity_id = 'RW4/MHS501:S2:discharged'"),
            "1");
  EXPECT_EQ(Sql(s,
                "SELECT count(*) FROM core.changes WHERE change_type = 'event_retracted' AND "
                "entity_id = 'RW4/MHS201:C3'"),
            "1");
  EXPECT_GT(std::stoi(Sql(s, "SELECT count(*) FROM core.changes")), std::stoi(changes_before));
  // FU72 by hand after the correction: S2 (9 Oct) now counts (death 5 days later), not followed
  // up: 1 of 3.
  kpis = Kpis(s);
  EXPECT_EQ(kpis["FU72"], "1/3");

  // 3. The same month once more: nothing changes.
  const std::string events_before = Sql(s, "SELECT count(*) FROM core.event");
  const std::string changes_after = Sql(s, "SELECT count(*) FROM core.changes");
  const Loaded third = Upload(s, trust, true);
  ASSERT_TRUE(third.status.ok()) << third.status.error_message();
  const auto& r3 = third.stream.back().report();
  EXPECT_EQ(r3.stored() + r3.corrected() + r3.retracted(), 0);
  EXPECT_EQ(r3.duplicates(), r2.duplicates() + r2.corrected());
  EXPECT_EQ(Sql(s, "SELECT count(*) FROM core.event"), events_before);
  EXPECT_EQ(Sql(s, "SELECT count(*) FROM core.changes"), changes_after);

  // 4. The same population through ImportEvents into a second database: the same indicators.
  auto tables = std::vector<datasets::Table>();
  for (const auto& [file, text] : testing::MhsdsMonth(true)) {
    tables.push_back(*datasets::TableFromCsv(file, text));
  }
  auto mapped = datasets::MapMhsds(tables, kTrust);
  ASSERT_TRUE(mapped.ok());
  auto ctx = Ctx(Token(*events_, kTrust, Role::kSystem));
  icr::v1::ImportSummary summary;
  auto writer =
      icr::v1::RecordService::NewStub(events_->channel)->ImportEvents(ctx.get(), &summary);
  for (auto p : mapped->people) {
    p.set_family_name(datasets::kMhsdsNoName);
    icr::v1::ImportItem item;
    *item.mutable_person() = p;
    writer->Write(item);
  }
  for (const auto& e : mapped->events) {
    icr::v1::ImportItem item;
    *item.mutable_event() = e;
    writer->Write(item);
  }
  writer->WritesDone();
  ASSERT_TRUE(writer->Finish().ok());
  EXPECT_EQ(summary.rejected(), 0);
  const auto direct = Kpis(*events_);
  EXPECT_EQ(direct, kpis);
  EXPECT_FALSE(direct.empty());
  std::filesystem::remove_all(dir);
}

// Refusals of the file as a whole change nothing: another provider's file, no header, and a
// kind without a mapper here.
TEST_F(DatasetImportTest, AFileRefusedAsAWholeKeepsNothing) {
  OwnStack& s = *dataset_;
  const std::string events = Sql(s, "SELECT count(*) FROM core.event");
  const Loaded other = Upload(s, Token(s, "RXA", Role::kSystem), false);
  EXPECT_EQ(other.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_FALSE(other.stream.empty());
  EXPECT_EQ(other.stream.back().state(), "failed");
  EXPECT_NE(other.stream.back().error().find("OrgIDProvider"), std::string::npos);
  EXPECT_EQ(Sql(s, "SELECT state FROM core.dataset_import_job WHERE job_id = '" +
                       other.stream.back().job_id() + "'"),
            "failed");

  // GetDatasetImport: the job of another organisation is not found.
  icr::v1::GetDatasetImportRequest req;
  req.set_job_id(other.stream.back().job_id());
  DatasetImportJob job;
  auto record = icr::v1::RecordService::NewStub(s.channel);
  EXPECT_EQ(
      record->GetDatasetImport(Ctx(Token(s, kTrust, Role::kSystem)).get(), req, &job).error_code(),
      grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(record->GetDatasetImport(Ctx(Token(s, "RXA", Role::kAdmin)).get(), req, &job).ok());
  req.set_job_id("not-a-job");
  EXPECT_EQ(
      record->GetDatasetImport(Ctx(Token(s, "RXA", Role::kAdmin)).get(), req, &job).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);

  // An upload without kind is INVALID_ARGUMENT naming it.
  auto ctx = Ctx(Token(s, kTrust, Role::kSystem));
  auto stream = record->ImportDataset(ctx.get());
  DatasetChunk chunk;
  chunk.set_part_name("MHS000Header.csv");
  stream->Write(chunk);
  stream->WritesDone();
  while (stream->Read(&job)) {
  }
  const auto status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("kind"), std::string::npos);

  // An Access file mdbtools cannot read (no Debian tool writes a new .mdb/.accdb, so the route
  // is tested this far): INVALID_ARGUMENT, the job failed.
  auto ctx2 = Ctx(Token(s, kTrust, Role::kSystem));
  auto access = record->ImportDataset(ctx2.get());
  chunk.set_kind(DatasetChunk::MHSDS);
  chunk.set_format(DatasetChunk::ACCESS);
  chunk.set_part_name("RW4-2026-10.accdb");
  chunk.set_data("Standard Jet DB? not really");
  access->Write(chunk);
  access->WritesDone();
  std::string state;
  while (access->Read(&job)) state = job.state();
  const auto refused = access->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
  EXPECT_EQ(state, "failed");
  EXPECT_EQ(Sql(s, "SELECT count(*) FROM core.event"), events);
}

}  // namespace
}  // namespace icr::test
