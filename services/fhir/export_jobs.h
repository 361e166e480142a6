// FHIR bulk export (Bulk Data Access IG; ../shared/design/fhir-ukcore.md section 9): the jobs
// (fhir.export_job, migration 0021), the worker that writes their NDJSON files and the sweeper
// that expires them, behind a C++ API the HTTP routes call ($export, Patient/$export,
// Group/{id}/$export, the status URL, DELETE, the files).
//
// Who may export is the access module's (access::kFhirBulkExport: not a performance analyst,
// never break glass); whose people a job holds is the organisation's current relationships
// (core.relationship), the rule of sight itself. A job belongs to the caller's organisation:
// anything about another organisation's job, an unknown, cancelled or expired one is NOT_FOUND.
//
// A job runs in one REPEATABLE READ READ ONLY snapshot (its transaction time is the snapshot's
// now()), reading its people in keyset pages of 200 by person id. Each page's resources are
// appended to the files and flushed, then one write transaction records the page: one audit row
// per person ("FhirBulkExport", on behalf of the caller kept in the job row), the progress and
// the files' counts. The files are served only once the job is done, that is once every page's
// audit rows are committed; a cancelled, failed or expired job's files are removed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/db.h"
#include "services/common/principal.h"

namespace icr::fhir {

struct ExportKickoff {
  std::string level;  // "system" ($export), "patient" (Patient/$export), "group"
  // Group/{id}: "caseload-<ORG>" (the people the organisation has a current relationship with)
  // or "s117-<CODE>" (the S117 register of a council GSS or ICB ODS code: the entitlements it is
  // a responsible body of). Only the organisation itself may export its group.
  std::string group_id;
  std::vector<std::string> types;  // _type (empty: all the server exports)
  std::string since;               // _since, an RFC 3339 instant (empty: none)
  std::string request_url;         // the kick-off URL, for the manifest
};

struct ExportFile {
  std::string type, name;
  int64_t count = 0;
};

struct ExportStatus {
  enum class State { kQueued, kRunning, kDone, kFailed };
  State state = State::kQueued;
  std::string progress;                       // e.g. "312 of 1,200 people"
  std::string transaction_time, request_url;  // RFC 3339 instant ("" until the job starts)
  std::vector<ExportFile> files;              // when done
  std::string error;                          // when failed (no personal data)
  std::chrono::system_clock::time_point expires;
};

// The resource types an export holds, in manifest order.
const std::vector<std::string>& ExportTypes();

class ExportJobs {
 public:
  // folder: where each job's files go (<folder>/<job id>/<Type>-<n>.ndjson); replicas sharing
  // the database must share it. keep_for: how long after its kick-off a job and its files are
  // kept. lines_per_file: a new file of a type after this many resources.
  ExportJobs(Database& db, std::string folder, std::chrono::seconds keep_for,
             int64_t lines_per_file = 50000);
  ~ExportJobs();
  ExportJobs(const ExportJobs&) = delete;
  ExportJobs& operator=(const ExportJobs&) = delete;

  // The worker and the expiry sweeper threads. Stop ends them; a job running then fails
  // ("start it again").
  void Start();
  void Stop();

  // A new queued job; its id (a uuid). PERMISSION_DENIED for a role that may not export;
  // INVALID_ARGUMENT naming `level`, `_type` or `_since`; NOT_FOUND for a group that is not the
  // caller's own; RESOURCE_EXHAUSTED while the organisation has a job queued or running.
  absl::StatusOr<std::string> Kickoff(const Caller& caller, const ExportKickoff& kickoff);
  absl::StatusOr<ExportStatus> Status(const Caller& caller, const std::string& job_id);
  // DELETE: a queued job is removed, a running one stops at its next page and is removed, a
  // finished one is removed with its files.
  absl::Status Cancel(const Caller& caller, const std::string& job_id);
  // The path of a file of a completed job of the caller's organisation.
  absl::StatusOr<std::string> FilePath(const Caller& caller, const std::string& job_id,
                                       const std::string& name);

  // One round of the worker (claims and runs one queued job; false when there was none) and of
  // the sweeper, for tests and for hosts that drive them themselves.
  bool RunOnce();
  void SweepOnce();

 private:
  struct Job;
  absl::Status RunJob(const Job& job);
  void RemoveFiles(const std::string& job_id);
  void WorkerLoop();
  void SweeperLoop();

  Database& db_;
  std::string folder_;
  std::chrono::seconds keep_for_;
  int64_t lines_per_file_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool wake_ = false;
  std::thread worker_, sweeper_;
};

}  // namespace icr::fhir
