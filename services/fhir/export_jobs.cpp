#include "services/fhir/export_jobs.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "services/careplan/store.h"
#include "services/common/access_rule.h"
#include "services/common/audit.h"
#include "services/common/status.h"
#include "services/fhir/resources.h"
#include "services/fhir/sql/statements.h"
#include "services/record/store.h"

namespace icr::fhir {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

constexpr int kPageSize = 200;  // people per page (one write transaction each)
// The longest a job's snapshot may stay open.
constexpr std::chrono::hours kJobTimeout{6};
// A running job whose worker has not reported for this long is failed (its replica stopped).
constexpr int64_t kStaleSeconds = 600;
constexpr char kAuditAction[] = "FhirBulkExport";
constexpr char kNoPerson[] = "00000000-0000-0000-0000-000000000000";
// The S117 register of a council or ICB: the entitlements it is a responsible body of.
constexpr char kS117Kinds[] = "{\"s117_council\",\"s117_icb\"}";

absl::Status NoSuchJob() { return absl::NotFoundError("job_id: no such export job"); }

bool IsUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// "<Type>-<n>.ndjson" of an exported type.
bool IsFileName(const std::string& name) {
  for (const auto& type : ExportTypes()) {
    const std::string prefix = type + "-";
    if (!absl::StartsWith(name, prefix) || !absl::EndsWith(name, ".ndjson")) continue;
    const std::string n = name.substr(prefix.size(), name.size() - prefix.size() - 7);
    return !n.empty() && n.size() < 10 &&
           std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  return false;
}

std::string Thousands(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::optional<std::string> Nullable(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

// The NDJSON files of one job: per type, the file being written and its line count; a new file
// after lines_per_file lines.
class FileSet {
 public:
  FileSet(fs::path dir, int64_t lines_per_file)
      : dir_(std::move(dir)), lines_per_file_(lines_per_file) {}

  void Append(const std::string& type, const Json& resource) {
    auto& out = open_[type];
    if (!out.stream || out.lines == lines_per_file_) {
      if (out.stream) out.stream->close();
      out.seq += 1;
      out.lines = 0;
      out.name = type + "-" + std::to_string(out.seq) + ".ndjson";
      out.stream = std::make_unique<std::ofstream>(dir_ / out.name, std::ios::binary);
      files_[out.name] = {type, out.name, 0};
      seqs_[out.name] = out.seq;
    }
    *out.stream << resource.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
    out.lines += 1;
    files_[out.name].count += 1;
  }

  // Every line appended is on disk (as far as the operating system goes).
  absl::Status Flush() {
    for (auto& [type, out] : open_) {
      if (!out.stream) continue;
      out.stream->flush();
      if (!out.stream->good()) return absl::InternalError("writing an export file failed");
    }
    return absl::OkStatus();
  }
  void Close() {
    for (auto& [type, out] : open_) {
      if (out.stream) out.stream->close();
    }
  }

  // Records the files and their counts (files_upsert.sql).
  void Record(pqxx::transaction_base& tx, const std::string& job_id) const {
    if (files_.empty()) return;
    std::vector<std::string> names, types, seqs, counts;
    for (const auto& [name, file] : files_) {
      names.push_back(name);
      types.push_back(file.type);
      seqs.push_back(std::to_string(seqs_.at(name)));
      counts.push_back(std::to_string(file.count));
    }
    Exec(tx, sql::kFilesUpsert, job_id, PgTextArray(names), PgTextArray(types),
         "{" + absl::StrJoin(seqs, ",") + "}", "{" + absl::StrJoin(counts, ",") + "}");
  }

 private:
  struct Open {
    std::unique_ptr<std::ofstream> stream;
    std::string name;
    int seq = 0;
    int64_t lines = 0;
  };
  fs::path dir_;
  int64_t lines_per_file_;
  std::map<std::string, Open> open_;
  std::map<std::string, ExportFile> files_;
  std::map<std::string, int> seqs_;
};

// Locks the job for a page's write: true while it is still running. A cancelled job is removed
// here (its files by the caller, after the commit); one removed by the sweeper is gone already.
bool StillRunning(pqxx::transaction_base& tx, const std::string& job_id) {
  auto state = Exec(tx, sql::kJobLock, job_id);
  if (state.empty()) return false;
  const std::string s = state[0][0].c_str();
  if (s == "cancelled") Exec(tx, sql::kJobDelete, job_id);
  return s == "running";
}

}  // namespace

const std::vector<std::string>& ExportTypes() {
  static const std::vector<std::string> kTypes = {"Patient", "EpisodeOfCare", "Encounter",
                                                  "Observation", "CarePlan"};
  return kTypes;
}

struct ExportJobs::Job {
  std::string id;
  Caller caller;  // on whose behalf the audit rows are written
  std::string member_org;
  std::optional<std::string> member_kinds;  // a text[] literal, or none (any kind)
  std::vector<std::string> types;
  std::optional<std::string> since;
};

ExportJobs::ExportJobs(Database& db, std::string folder, std::chrono::seconds keep_for,
                       int64_t lines_per_file)
    : db_(db),
      folder_(std::move(folder)),
      keep_for_(keep_for),
      lines_per_file_(std::max<int64_t>(1, lines_per_file)) {}

ExportJobs::~ExportJobs() { Stop(); }

void ExportJobs::Start() {
  std::lock_guard lock(mu_);
  if (worker_.joinable()) return;
  stop_ = false;
  worker_ = std::thread([this] { WorkerLoop(); });
  sweeper_ = std::thread([this] { SweeperLoop(); });
}

void ExportJobs::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (sweeper_.joinable()) sweeper_.join();
}

void ExportJobs::WorkerLoop() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    if (RunOnce()) continue;
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(2), [this] { return stop_ || wake_; });
    wake_ = false;
  }
}

void ExportJobs::SweeperLoop() {
  const auto every = std::clamp<std::chrono::seconds>(keep_for_ / 4, std::chrono::seconds(1),
                                                      std::chrono::seconds(60));
  while (true) {
    SweepOnce();
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, every, [this] { return stop_; })) return;
  }
}

absl::StatusOr<std::string> ExportJobs::Kickoff(const Caller& caller,
                                                const ExportKickoff& kickoff) {
  RETURN_IF_ERROR(access::Admit(caller, access::kFhirBulkExport));
  std::optional<std::string> kinds;
  if (kickoff.level == "group") {
    // Only the organisation's own groups exist for it.
    std::string owner;
    if (absl::StartsWith(kickoff.group_id, "caseload-")) {
      owner = kickoff.group_id.substr(9);
    } else if (absl::StartsWith(kickoff.group_id, "s117-")) {
      owner = kickoff.group_id.substr(5);
      kinds = kS117Kinds;
    }
    if (owner.empty() || owner != caller.org_code) {
      return absl::NotFoundError("group_id: no such group visible to you");
    }
  } else if (kickoff.level != "system" && kickoff.level != "patient") {
    return InvalidField("level", "must be system, patient or group");
  }
  std::vector<std::string> types;
  for (const auto& type : ExportTypes()) {
    const bool asked =
        std::find(kickoff.types.begin(), kickoff.types.end(), type) != kickoff.types.end();
    if (asked || kickoff.types.empty()) types.push_back(type);
  }
  for (const auto& type : kickoff.types) {
    if (std::find(ExportTypes().begin(), ExportTypes().end(), type) == ExportTypes().end()) {
      return InvalidField("_type", "unknown resource type '" + type + "' (one of " +
                                       absl::StrJoin(ExportTypes(), ", ") + ")");
    }
  }
  std::optional<std::string> since;
  if (!kickoff.since.empty()) {
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, kickoff.since, &t, &error)) {
      return InvalidField("_since", "must be an instant such as 2026-03-02T10:30:00Z");
    }
    since = absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
  }
  std::string job_id;
  RETURN_IF_ERROR(db_.Write([&](pqxx::work& tx) {
    auto r = Exec(tx, sql::kJobInsert, caller.org_code, RoleName(caller.role),
                  caller.purpose_of_use, caller.request_id, kickoff.level, kickoff.group_id,
                  caller.org_code, kinds, PgTextArray(types), since, kickoff.request_url,
                  static_cast<int64_t>(keep_for_.count()));
    if (r.empty()) {
      return absl::ResourceExhaustedError(
          "an export of this organisation is queued or running already; try again when it ends");
    }
    job_id = r[0][0].c_str();
    return absl::OkStatus();
  }));
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
  return job_id;
}

absl::StatusOr<ExportStatus> ExportJobs::Status(const Caller& caller, const std::string& job_id) {
  if (!IsUuid(job_id)) return NoSuchJob();
  ExportStatus out;
  bool found = false;
  RETURN_IF_ERROR(db_.Read([&](pqxx::nontransaction& tx) {
    auto r = Exec(tx, sql::kJobGet, job_id, caller.org_code);
    if (r.empty()) return absl::OkStatus();
    found = true;
    const auto& row = r[0];
    const std::string state = row[0].c_str();
    const int64_t total = row[1].as<int64_t>(), done = row[2].as<int64_t>();
    out.state = state == "queued"    ? ExportStatus::State::kQueued
                : state == "running" ? ExportStatus::State::kRunning
                : state == "done"    ? ExportStatus::State::kDone
                                     : ExportStatus::State::kFailed;
    out.progress = total < 0 ? state : Thousands(done) + " of " + Thousands(total) + " people";
    out.transaction_time = row[3].c_str();
    out.request_url = row[4].c_str();
    out.error = row[5].c_str();
    out.expires = Clock::time_point(std::chrono::microseconds(row[6].as<int64_t>()));
    if (out.state == ExportStatus::State::kDone) {
      for (const auto& f : Exec(tx, sql::kJobFiles, job_id)) {
        out.files.push_back({f[0].c_str(), f[1].c_str(), f[2].as<int64_t>()});
      }
    }
    return absl::OkStatus();
  }));
  if (!found) return NoSuchJob();
  return out;
}

absl::Status ExportJobs::Cancel(const Caller& caller, const std::string& job_id) {
  if (!IsUuid(job_id)) return NoSuchJob();
  bool removed = false;
  RETURN_IF_ERROR(db_.Write([&](pqxx::work& tx) {
    auto r = Exec(tx, sql::kJobFindLock, job_id, caller.org_code);
    if (r.empty()) return NoSuchJob();
    if (std::string(r[0][0].c_str()) == "running") {
      Exec(tx, sql::kJobCancel, job_id);  // its worker removes it at its next page
    } else {
      Exec(tx, sql::kJobDelete, job_id);
      removed = true;
    }
    return absl::OkStatus();
  }));
  if (removed) RemoveFiles(job_id);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ExportJobs::FilePath(const Caller& caller, const std::string& job_id,
                                                 const std::string& name) {
  if (!IsUuid(job_id) || !IsFileName(name)) return NoSuchJob();
  bool found = false;
  RETURN_IF_ERROR(db_.Read([&](pqxx::nontransaction& tx) {
    found = !Exec(tx, sql::kJobFile, job_id, caller.org_code, name).empty();
    return absl::OkStatus();
  }));
  if (!found) return NoSuchJob();
  return (fs::path(folder_) / job_id / name).string();
}

bool ExportJobs::RunOnce() {
  std::optional<Job> job;
  auto claimed = db_.Write([&](pqxx::work& tx) {
    auto r = Exec(tx, sql::kJobClaim);
    if (r.empty()) return absl::OkStatus();
    const auto& row = r[0];
    Job j;
    j.id = row[0].c_str();
    j.caller.org_code = row[1].c_str();
    j.caller.role = ParseRole(row[2].c_str()).value_or(Role::kSystem);
    j.caller.purpose_of_use = row[3].c_str();
    j.caller.request_id = row[4].c_str();
    j.member_org = row[5].c_str();
    if (!row[6].is_null()) j.member_kinds = row[6].c_str();
    auto types = row[7].as_array();
    for (auto e = types.get_next(); e.first != pqxx::array_parser::juncture::done;
         e = types.get_next()) {
      if (e.first == pqxx::array_parser::juncture::string_value) j.types.push_back(e.second);
    }
    j.since = Nullable(row[8].c_str());
    job = std::move(j);
    return absl::OkStatus();
  });
  if (!claimed.ok()) {
    spdlog::warn("export worker: claiming a job failed: {}", claimed.ToString());
    return false;
  }
  if (!job) return false;
  spdlog::info("export job {} started", job->id);
  absl::Status status = RunJob(*job);
  if (status.ok()) {
    spdlog::info("export job {} finished", job->id);
    return true;
  }
  // The error a poller sees: what went wrong without personal data (a database message may
  // quote values, so only its code is kept).
  std::string error =
      status.code() == absl::StatusCode::kCancelled
          ? std::string(status.message())
          : "the export failed (" + absl::StatusCodeToString(status.code()) + "); start it again";
  spdlog::warn("export job {} failed: {}", job->id, absl::StatusCodeToString(status.code()));
  auto finished = db_.Write([&](pqxx::work& tx) {
    Exec(tx, sql::kJobFinish, job->id, "failed", error);
    return absl::OkStatus();
  });
  if (!finished.ok()) spdlog::warn("export job {}: recording its failure failed", job->id);
  RemoveFiles(job->id);  // never served: only a completed job's files are
  return true;
}

absl::Status ExportJobs::RunJob(const Job& job) {
  const fs::path dir = fs::path(folder_) / job.id;
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError("the export folder cannot be written");
  auto wants = [&](const std::string& type) {
    return std::find(job.types.begin(), job.types.end(), type) != job.types.end();
  };
  bool record_types = false;
  for (const auto& type : {"Patient", "EpisodeOfCare", "Encounter", "Observation"}) {
    record_types = record_types || wants(type);
  }
  FileSet files(dir, lines_per_file_);
  bool running = true;
  auto stopping = [this] {
    std::lock_guard lock(mu_);
    return stop_;
  };

  auto status = db_.Run(
      [&](pqxx::connection& conn) -> absl::Status {
        pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::read_only> snap(conn);
        auto start = Exec(snap, sql::kSnapshotStart, job.member_org, job.member_kinds, job.since);
        const std::string transaction_time = start[0][0].c_str();
        const int64_t total = start[0][1].as<int64_t>();
        RETURN_IF_ERROR(db_.Write([&](pqxx::work& tx) {
          Exec(tx, sql::kJobStarted, job.id, transaction_time, total);
          return absl::OkStatus();
        }));
        std::string after = kNoPerson;
        while (running) {
          if (stopping()) {
            return absl::CancelledError("the server stopped during the export; start it again");
          }
          auto page = Exec(snap, sql::kMembers, job.member_org, job.member_kinds, job.since, after,
                           kPageSize);
          if (page.empty()) break;
          std::vector<std::string> people;
          for (const auto& row : page) {
            const std::string person_id = row[0].c_str();
            people.push_back(person_id);
            if (record_types) {
              ASSIGN_OR_RETURN(auto record,
                               record::RecordStore::ReadIntegratedRecord(snap, person_id));
              for (const auto& resource : RecordResources(record)) {
                const std::string type = resource.value("resourceType", "");
                if (wants(type)) files.Append(type, resource);
              }
            }
            if (wants("CarePlan")) {
              for (const auto& plan_row : Exec(snap, sql::kPersonPlans, person_id)) {
                auto plan = careplan::CarePlanStore::LoadVersion(snap, plan_row[0].c_str(), 0);
                if (plan) files.Append("CarePlan", CarePlanResource(*plan));
              }
            }
          }
          after = people.back();
          RETURN_IF_ERROR(files.Flush());
          // The page's audit rows, progress and file counts, once its lines are on disk.
          RETURN_IF_ERROR(db_.Write([&](pqxx::work& tx) {
            running = StillRunning(tx, job.id);
            if (!running) return absl::OkStatus();
            Audit::WriteMany(tx, job.caller, people, kAuditAction, kAuditOk);
            Exec(tx, sql::kJobProgress, job.id, static_cast<int64_t>(people.size()));
            files.Record(tx, job.id);
            return absl::OkStatus();
          }));
        }
        snap.commit();
        return absl::OkStatus();
      },
      kJobTimeout);
  files.Close();
  if (status.ok() && running) {
    RETURN_IF_ERROR(db_.Write([&](pqxx::work& tx) {
      running = StillRunning(tx, job.id);
      if (running) Exec(tx, sql::kJobFinish, job.id, "done", "");
      return absl::OkStatus();
    }));
  }
  if (!running) {
    spdlog::info("export job {} cancelled or expired; its files are removed", job.id);
    RemoveFiles(job.id);
    return absl::OkStatus();
  }
  return status;
}

void ExportJobs::SweepOnce() {
  std::vector<std::string> expired;
  auto swept = db_.Write([&](pqxx::work& tx) {
    for (const auto& row : Exec(tx, sql::kJobsExpired)) expired.push_back(row[0].c_str());
    for (const auto& row : Exec(tx, sql::kJobsStale, kStaleSeconds)) {
      spdlog::warn("export job {} stopped reporting; marked failed", row[0].c_str());
    }
    return absl::OkStatus();
  });
  if (!swept.ok()) {
    spdlog::warn("export sweeper: {}", swept.ToString());
    return;
  }
  for (const auto& id : expired) RemoveFiles(id);
}

void ExportJobs::RemoveFiles(const std::string& job_id) {
  if (!IsUuid(job_id)) return;
  std::error_code ec;
  fs::remove_all(fs::path(folder_) / job_id, ec);
  if (ec) spdlog::warn("export job {}: removing its files failed: {}", job_id, ec.message());
}

}  // namespace icr::fhir
