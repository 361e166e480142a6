#include "clients/bench/import_phase.h"

#include <chrono>
#include <iostream>
#include <random>

#include "icr/v1/record.grpc.pb.h"
#include "services/common/validation.h"
#include "services/datasets/dataset_csv.h"
#include "services/datasets/mhsds_map.h"

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

bool RunImportPhase(const ImportPhaseOptions& o, const std::function<double()>& take_rss,
                    const std::function<void(const nlohmann::json&)>& print) {
  auto stub = icr::v1::RecordService::NewStub(o.channel);
  const auto nhs = NhsNumbers(2 * o.people);
  const std::vector<std::string> first(nhs.begin(), nhs.begin() + o.people),
      second(nhs.begin() + o.people, nhs.end());
  // Local ids of this run only (a local id identifies one person for good).
  const std::string run = nhs[0] + "-";

  // The dataset route: the upload and the server's one-transaction load.
  auto t0 = std::chrono::steady_clock::now();
  auto ctx = Ctx(o.token);
  auto stream = stub->ImportDataset(ctx.get());
  bool head = true;
  for (const auto& [name, text] : Month(first, "A" + run)) {
    DatasetChunk chunk;
    if (head) {
      chunk.set_kind(DatasetChunk::MHSDS);
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
    return false;
  }
  const auto& r = job.report();
  print(Row("ImportDataset MHSDS (CSV, 1 transaction; items/s)", job.rows_done(), r.refused(),
            Since(t0), take_rss()));

  // ImportEvents: the same rows for other people, mapped here and streamed.
  std::vector<datasets::Table> tables;
  for (const auto& [name, text] : Month(second, "B" + run)) {
    tables.push_back(*datasets::TableFromCsv(name, text));
  }
  auto mapped = datasets::MapMhsds(tables, r.sender_org());
  if (!mapped.ok()) return false;
  t0 = std::chrono::steady_clock::now();
  auto ctx2 = Ctx(o.token);
  icr::v1::ImportSummary summary;
  {
    auto writer = stub->ImportEvents(ctx2.get(), &summary);
    icr::v1::ImportItem item;
    for (auto p : mapped->people) {
      p.set_family_name(datasets::kMhsdsNoName);
      *item.mutable_person() = std::move(p);
      writer->Write(item);
    }
    for (const auto& e : mapped->events) {
      *item.mutable_event() = e;
      writer->Write(item);
    }
    writer->WritesDone();
    status = writer->Finish();
  }
  if (!status.ok()) {
    std::cerr << "icr-bench: import: ImportEvents: " << status.error_message() << "\n";
    return false;
  }
  print(Row("ImportEvents, same rows (items/s)", summary.stored() + summary.duplicates(),
            summary.rejected(), Since(t0), take_rss()));
  return true;
}

}  // namespace icr::bench
