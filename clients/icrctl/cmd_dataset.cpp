// import mhsds | import cld: a national dataset file as the organisation produces it, uploaded to
// RecordService.ImportDataset and loaded on the server in one transaction as
// replace-by-(sender, period); a progress line while it runs, the report at the end. --job ID
// shows a job later (GetDatasetImport, from any replica).
#include <filesystem>
#include <thread>

#include "clients/icrctl/commands.h"
#include "clients/icrctl/rpc.h"
#include "icr/v1/record.grpc.pb.h"

namespace icrctl {
namespace {
using icr::v1::DatasetChunk;
using icr::v1::DatasetImportJob;

constexpr int kExitRowsRefused = 3;
constexpr size_t kChunkBytes = 1u << 20;

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The parts to send: every *.csv of a folder (a table each), or the one file.
std::vector<std::pair<std::string, std::string>> Parts(const std::string& path,
                                                       DatasetChunk::Format& format) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> parts;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.is_regular_file() && Lower(entry.path().extension().string()) == ".csv") {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw Failure("INVALID_ARGUMENT: " + path + ": no .csv file", kExitUsage);
    for (const auto& f : files) parts.emplace_back(f.filename().string(), ReadInput(f.string()));
    format = DatasetChunk::CSV;
    return parts;
  }
  const std::string ext = Lower(fs::path(path).extension().string());
  format = ext == ".mdb" || ext == ".accdb" ? DatasetChunk::ACCESS : DatasetChunk::CSV;
  parts.emplace_back(fs::path(path).filename().string(), ReadInput(path));
  return parts;
}

void PrintProgress(const DatasetImportJob& job) {
  std::fprintf(stderr, "\rjob %s %-8s %lld/%lld items, %.0f/s, ETA %llds   ", job.job_id().c_str(),
               job.state().c_str(), static_cast<long long>(job.rows_done()),
               static_cast<long long>(job.rows_total()), job.rows_per_second(),
               static_cast<long long>(job.eta_seconds()));
  std::fflush(stderr);
}

int PrintJob(const Invocation& inv, const DatasetImportJob& job) {
  if (inv.globals.json) {
    out::PrintJsonLine(job, true);
  } else {
    std::printf("job %s: %s %s\n", job.job_id().c_str(), job.kind().c_str(), job.state().c_str());
    if (job.state() == "failed")
      std::printf("failed: %s (nothing was kept)\n", job.error().c_str());
    if (job.has_report()) {
      const auto& r = job.report();
      std::printf("sender %s, period %s to %s\n", r.sender_org().c_str(), r.period_start().c_str(),
                  r.period_end().c_str());
      for (const auto& t : r.rows_read()) {
        std::printf("  %-32s %lld rows\n", t.table().c_str(), static_cast<long long>(t.rows()));
      }
      std::printf("people %lld (%lld already in the record, matched by NHS number)\n",
                  static_cast<long long>(r.people()), static_cast<long long>(r.people_matched()));
      std::printf(
          "events: %lld stored, %lld duplicate, %lld corrected, %lld retracted; %lld rows "
          "refused\n",
          static_cast<long long>(r.stored()), static_cast<long long>(r.duplicates()),
          static_cast<long long>(r.corrected()), static_cast<long long>(r.retracted()),
          static_cast<long long>(r.refused()));
      for (const auto& f : r.refusals()) {
        std::printf("  refused %s row %lld %s: %s\n", f.table().c_str(),
                    static_cast<long long>(f.row()), f.field().c_str(), f.reason().c_str());
      }
      std::printf("S117 candidates the register does not hold: %d\n", r.s117_candidates_size());
      for (const auto& c : r.s117_candidates()) {
        std::printf("  detention %s (legal status %s), person %s\n", c.detention_id().c_str(),
                    c.legal_status_code().c_str(), c.person_id().c_str());
      }
    }
  }
  if (job.state() == "failed") return kExitFailed;
  return job.report().refused() > 0 ? kExitRowsRefused : 0;
}

int ShowJob(const Invocation& inv) {
  if (!inv.positional.empty()) FailUsage("--job takes no FILE");
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  icr::v1::GetDatasetImportRequest req;
  req.set_job_id(inv.Str("job"));
  DatasetImportJob job;
  Check(icr::v1::RecordService::NewStub(client.channel())->GetDatasetImport(&ctx, req, &job));
  return PrintJob(inv, job);
}

int RunDataset(const Invocation& inv, DatasetChunk::Kind kind) {
  if (inv.Has("job")) return ShowJob(inv);
  const std::string path =
      inv.Positional(1, kind == DatasetChunk::CLD ? "FILE.csv" : "FILE|DIR")[0];
  DatasetChunk::Format format;
  const auto parts = Parts(path, format);
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx, kNoDeadline);
  auto stream = icr::v1::RecordService::NewStub(client.channel())->ImportDataset(&ctx);
  std::thread writer([&] {
    bool first = true;
    for (const auto& [name, data] : parts) {
      for (size_t at = 0; at == 0 || at < data.size(); at += kChunkBytes) {
        DatasetChunk chunk;
        if (first) {
          chunk.set_kind(kind);
          chunk.set_format(format);
          first = false;
        }
        chunk.set_part_name(name);
        chunk.set_data(data.substr(at, kChunkBytes));
        if (!stream->Write(chunk)) return stream->WritesDone(), void();
      }
    }
    stream->WritesDone();
  });
  DatasetImportJob job, last;
  bool any = false;
  while (stream->Read(&job)) {
    if (!inv.globals.json) PrintProgress(job);
    last = job;
    any = true;
  }
  writer.join();
  if (any && !inv.globals.json) std::fprintf(stderr, "\n");
  const grpc::Status status = stream->Finish();
  if (any && last.state() != "running" && last.state() != "receiving") {
    const int code = PrintJob(inv, last);
    if (!status.ok()) Check(status);
    return code;
  }
  Check(status);
  return any ? PrintJob(inv, last) : 0;
}

void DatasetFlags(cxxopts::Options& o) {
  o.add_options()("job", "show the dataset import job ID (its progress or its report) instead",
                  cxxopts::value<std::string>());
}

constexpr char kDetails[] = R"(
The file is uploaded to the server (RecordService.ImportDataset) and loaded in one transaction:
nothing of it is kept when the load fails. The sending organisation is the one the token
belongs to. A period loaded again replaces the earlier load of the same period (sender, kind,
period): rows sent before with the same content are DUPLICATE, rows with other content are
CORRECTED (the record follows the file, the change feed carries it), and rows of the earlier
load missing now are RETRACTED. A progress line (items done, rate, ETA) is written on stderr
while it runs; the report at the end on stdout (--json: the icr.v1.DatasetImportJob).

Exit status: 0 when no row was refused, 3 when at least one was, 2 for a bad command line or
file, 1 when the load failed.
)";

constexpr char kMhsdsDetails[] = R"(
FILE|DIR: the trust's MHSDS Intermediate Database (.mdb or .accdb, read on the server with
mdbtools), or a folder of per-table CSV exports (file name = table name, e.g.
MHS101Referral.csv; header = the IDB column names). Tables are matched by their MHS### prefix,
columns by MHSDS short name in any case, v5 and v6 spellings both accepted (ServiceRequestId /
ServiceRequestID, AttendOrDNACode / AttendStatus, HospitalBedTypeMH / MHAdmittedPatientClass).
Read: MHS000 (reporting period, OrgIDProvider), MHS001, 002, 003, 004, 006, 101, 102, 201, 401,
403, 404, 501, 502, 902; other tables are counted, not mapped.
)";

}  // namespace

void AddDatasetCommands(std::vector<Command>& commands) {
  commands.push_back({{"import", "mhsds"},
                      "load a trust's MHSDS month (Intermediate Database or per-table CSV folder)",
                      "FILE|DIR",
                      DatasetFlags,
                      [](const Invocation& inv) { return RunDataset(inv, DatasetChunk::MHSDS); },
                      std::string(kMhsdsDetails) + kDetails});
  commands.push_back(
      {{"import", "cld"},
       "load a council's Adult Social Care Client Level Data return (CSV)",
       "FILE.csv",
       DatasetFlags,
       [](const Invocation& inv) { return RunDataset(inv, DatasetChunk::CLD); },
       std::string("\nFILE.csv: the council's CLD return as sent to DHSC.\n") + kDetails});
}

}  // namespace icrctl
