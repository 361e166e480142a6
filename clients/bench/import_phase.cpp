#include "clients/bench/import_phase.h"

#include <chrono>
#include <iostream>
#include <optional>
#include <random>

#include "icr/v1/record.grpc.pb.h"
#include "services/common/validation.h"
#include "services/datasets/cld_map.h"
#include "services/datasets/dataset_csv.h"
#include "services/datasets/mhsds_map.h"
#include "tests/support/cld_fixture.h"

namespace icr::bench {
namespace {
using icr::v1::DatasetChunk;

// Valid NHS numbers in the 999 test range, from a random start (a new population per run).
std::vector<std::string> NhsNumbers(int n) {
  std::mt19937_64 rng(std::random_device{}());
  int64_t next = 9990000000 + static_cast<int64_t>(rng() % 90000) * 100;  // stays 10 digits
  std::vector<std::string> out;
  while (static_cast<int>(out.size()) < n) {
    const std::string s = std::to_string(next++);
    if (NhsNumberChecksumOk(s)) out.push_back(s);
  }
  return out;
}

// The month's tables for these people, local ids prefixed by `prefix`. No OrgIDProvider: the
// rows are the token's trust's.
std::vector<std::pair<std::string, std::string>> Month(const std::vector<std::string>& nhs,
                                                       const std::string& prefix) {
  std::string mpi = "LocalPatientID,NHSNumber,PersonBirthDate,Gender\n";
  std::string referrals =
      "ServiceRequestID,LocalPatientID,ReferralRequestReceivedDate,"
      "CareProfTeamLocalID\n";
  std::string contacts =
      "CareContactID,ServiceRequestID,CareContDate,AttendStatus,"
      "ConsMechanismMH\n";
  std::string accommodation = "LocalPatientID,AccommodationType,AccommodationTypeDate\n";
  for (size_t i = 0; i < nhs.size(); ++i) {
    const std::string p = prefix + "P" + std::to_string(i), r = prefix + "R" + std::to_string(i);
    mpi += p + "," + nhs[i] + ",1970-01-01,1\n";
    referrals += r + "," + p + ",2026-09-01,T1\n";
    contacts += prefix + "C" + std::to_string(i) + "a," + r + ",2026-10-05,5,01\n";
    contacts += prefix + "C" + std::to_string(i) + "b," + r + ",2026-10-19,3,02\n";
    accommodation += p + ",03,2026-10-05\n";
  }
  return {{"MHS000Header.csv",
           "ReportingPeriodStartDate,ReportingPeriodEndDate\n2026-10-01,2026-10-31\n"},
          {"MHS902ServiceTeamDetails.csv", "CareProfTeamLocalID,ServTeamTypeMH\nT1,A06\n"},
          {"MHS001MPI.csv", mpi},
          {"MHS101Referral.csv", referrals},
          {"MHS201CareContact.csv", contacts},
          {"MHS003AccommStatus.csv", accommodation}};
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata("authorization", "Bearer " + token);
  ctx->AddMetadata("x-purpose-of-use", "benchmark");
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::hours(1));
  return ctx;
}

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json Row(const std::string& what, int64_t items, int64_t errors, double seconds,
                   double rss) {
  return {{"phase", "import"}, {"what", what},     {"callers", 1},
          {"calls", items},    {"errors", errors}, {"qps", seconds > 0 ? items / seconds : 0},
          {"p50_ms", 0},       {"p99_ms", 0},      {"peak_rss_mb", rss}};
}

}  // namespace

namespace {

// Uploads `parts` through ImportDataset and waits for the job's end; nullopt when it failed.
std::optional<icr::v1::DatasetImportJob> Upload(
    icr::v1::RecordService::Stub& stub, const std::string& token, DatasetChunk::Kind kind,
    const std::vector<std::pair<std::string, std::string>>& parts) {
  auto ctx = Ctx(token);
  auto stream = stub.ImportDataset(ctx.get());
  bool head = true;
  for (const auto& [name, text] : parts) {
    DatasetChunk chunk;
    if (head) {
      chunk.set_kind(kind);
      chunk.set_format(DatasetChunk::CSV);
      head = false;
    }
    chunk.set_part_name(name);
    chunk.set_data(text);
    stream->Write(chunk);
  }
  stream->WritesDone();
  icr::v1::DatasetImportJob job;
  while (stream->Read(&job)) {
  }
  auto status = stream->Finish();
  if (!status.ok()) {
    std::cerr << "icr-bench: import: ImportDataset: " << status.error_message() << "\n";
    return std::nullopt;
  }
  return job;
}

// Streams a file's people and events through ImportEvents; nullopt when the call failed.
std::optional<icr::v1::ImportSummary> Stream(icr::v1::RecordService::Stub& stub,
                                             const std::string& token,
                                             const datasets::Mapped& mapped) {
  auto ctx = Ctx(token);
  icr::v1::ImportSummary summary;
  auto writer = stub.ImportEvents(ctx.get(), &summary);
  icr::v1::ImportItem item;
  for (auto p : mapped.people) {
    if (p.family_name().empty()) p.set_family_name(datasets::kMhsdsNoName);
    *item.mutable_person() = std::move(p);
    writer->Write(item);
  }
  for (const auto& e : mapped.events) {
    *item.mutable_event() = e;
    writer->Write(item);
  }
  writer->WritesDone();
  auto status = writer->Finish();
  if (!status.ok()) {
    std::cerr << "icr-bench: import: ImportEvents: " << status.error_message() << "\n";
    return std::nullopt;
  }
  return summary;
}

}  // namespace

bool RunImportPhase(const ImportPhaseOptions& o, const std::function<double()>& take_rss,
                    const std::function<void(const nlohmann::json&)>& print) {
  auto stub = icr::v1::RecordService::NewStub(o.channel);
  const auto nhs = NhsNumbers(2 * o.people);
  const std::vector<std::string> first(nhs.begin(), nhs.begin() + o.people),
      second(nhs.begin() + o.people, nhs.end());
  // Local ids of this run only (a local id identifies one person for good).
  const std::string run = nhs[0] + "-";

  // MHSDS: the dataset route (the upload and the server's one-transaction load), then the same
  // rows for other people mapped here and streamed through ImportEvents.
  auto t0 = std::chrono::steady_clock::now();
  auto job = Upload(*stub, o.token, DatasetChunk::MHSDS, Month(first, "A" + run));
  if (!job) return false;
  print(Row("ImportDataset MHSDS (CSV, 1 transaction; items/s)", job->rows_done(),
            job->report().refused(), Since(t0), take_rss()));
  std::vector<datasets::Table> tables;
  for (const auto& [name, text] : Month(second, "B" + run)) {
    tables.push_back(*datasets::TableFromCsv(name, text));
  }
  auto mapped = datasets::MapMhsds(tables, job->report().sender_org());
  if (!mapped.ok()) return false;
  t0 = std::chrono::steady_clock::now();
  auto summary = Stream(*stub, o.token, *mapped);
  if (!summary) return false;
  print(Row("ImportEvents, same MHSDS rows (items/s)", summary->stored() + summary->duplicates(),
            summary->rejected(), Since(t0), take_rss()));

  // CLD: a council's return the same two ways (each service user a request, an assessment, a
  // service and a review), when the council's token was given.
  if (o.council_token.empty()) return true;
  std::mt19937 rng(std::random_device{}());
  fixtures::CldOptions a;
  a.service_users = o.people;
  a.first_nhs = 1000 + static_cast<int>(rng() % (90000 - 2 * o.people));
  a.id_prefix = "A" + run;
  fixtures::CldOptions b = a;
  b.first_nhs = a.first_nhs + o.people;
  b.id_prefix = "B" + run;
  t0 = std::chrono::steady_clock::now();
  job = Upload(*stub, o.council_token, DatasetChunk::CLD,
               {{"cld.csv", fixtures::MakeCldReturn(a).csv}});
  if (!job) return false;
  print(Row("ImportDataset CLD (1 transaction; items/s)", job->rows_done(),
            job->report().refused(), Since(t0), take_rss()));
  auto cld = datasets::TableFromCsv("cld.csv", fixtures::MakeCldReturn(b).csv);
  if (!cld.ok()) return false;
  mapped = datasets::MapCld(*cld, job->report().sender_org());
  if (!mapped.ok()) return false;
  t0 = std::chrono::steady_clock::now();
  summary = Stream(*stub, o.council_token, *mapped);
  if (!summary) return false;
  print(Row("ImportEvents, same CLD rows (items/s)", summary->stored() + summary->duplicates(),
            summary->rejected(), Since(t0), take_rss()));
  return true;
}

}  // namespace icr::bench
