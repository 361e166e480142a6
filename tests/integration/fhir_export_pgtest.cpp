// FHIR bulk export through its C++ API (services/fhir/export_jobs.h) on a real database: a job
// holds exactly its organisation's people, audits each once, is invisible to everyone else, is
// refused to a performance analyst, runs one at a time per organisation, can be cancelled,
// filters by _type and _since, and expires.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "services/fhir/export_jobs.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

namespace fs = std::filesystem;
using fhir::ExportJobs;
using fhir::ExportKickoff;
using fhir::ExportStatus;

constexpr char kTrust[] = "RGD";  // Leeds
constexpr char kOtherTrust[] = "RX4";

Caller As(const std::string& org, Role role, const std::string& request_id) {
  Caller c;
  c.org_code = org;
  c.role = role;
  c.purpose_of_use = "direct_care";
  c.request_id = request_id;
  return c;
}

ExportKickoff System(std::vector<std::string> types = {}, std::string since = "") {
  ExportKickoff k;
  k.level = "system";
  k.types = std::move(types);
  k.since = std::move(since);
  k.request_url = "https://icr.example.org/fhir/$export";
  return k;
}

class FhirExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder = fs::temp_directory_path() / ("icr-export-" + std::to_string(getpid()));
    fs::create_directories(folder);
  }
  void TearDown() override {
    stack.Scalar("DELETE FROM fhir.export_job");
    std::error_code ec;
    fs::remove_all(folder, ec);
  }

  // Polls until the job is no longer queued or running (at most 30 s).
  ExportStatus Finished(ExportJobs& jobs, const Caller& caller, const std::string& id) {
    for (int i = 0; i < 300; ++i) {
      auto s = jobs.Status(caller, id);
      EXPECT_TRUE(s.ok()) << s.status();
      if (!s.ok()) return {};
      if (s->state == ExportStatus::State::kDone || s->state == ExportStatus::State::kFailed) {
        return *s;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "export job " << id << " did not finish";
    return {};
  }

  // Kicks a job off and runs it on this thread (the worker not started); its id and status.
  std::pair<std::string, ExportStatus> RunHere(ExportJobs& jobs, const Caller& caller,
                                               const ExportKickoff& kickoff) {
    auto id = jobs.Kickoff(caller, kickoff);
    EXPECT_TRUE(id.ok()) << id.status();
    if (!id.ok()) return {};
    while (jobs.RunOnce()) {
    }
    auto status = jobs.Status(caller, *id);
    EXPECT_TRUE(status.ok()) << status.status();
    if (!status.ok()) return {*id, {}};
    EXPECT_EQ(status->state, ExportStatus::State::kDone) << status->error;
    return {*id, *status};
  }

  // The ids of the resources of `type` in the job's files (every line a compact JSON object).
  std::multiset<std::string> Ids(ExportJobs& jobs, const Caller& caller, const std::string& id,
                                 const ExportStatus& status, const std::string& type) {
    std::multiset<std::string> ids;
    for (const auto& file : status.files) {
      if (file.type != type) continue;
      auto path = jobs.FilePath(caller, id, file.name);
      EXPECT_TRUE(path.ok()) << path.status();
      if (!path.ok()) continue;
      std::ifstream in(*path);
      std::string line;
      int64_t lines = 0;
      while (std::getline(in, line)) {
        auto json = nlohmann::json::parse(line);
        EXPECT_EQ(json.at("resourceType"), type);
        EXPECT_EQ(json.dump(), line) << "not compact";
        ids.insert(json.value("id", ""));
        ++lines;
      }
      EXPECT_EQ(lines, file.count) << file.name;
    }
    return ids;
  }

  std::set<std::string> SeenBy(const std::string& org) {
    auto list = stack.Scalar(
        "SELECT string_agg(DISTINCT person_id::text, ',') FROM core.relationship "
        "WHERE org_code = '" +
        org + "' AND to_at IS NULL");
    std::set<std::string> out;
    std::stringstream ss(list);
    for (std::string id; std::getline(ss, id, ',');) out.insert(id);
    return out;
  }

  std::string AuditRows(const std::string& request_id, const std::string& what = "count(*)") {
    return stack.Scalar("SELECT " + what +
                        " FROM core.audit WHERE action = 'FhirBulkExport' "
                        "AND request_id = '" +
                        request_id + "'");
  }

  Stack& stack = Stack::Get();
  fs::path folder;
};

TEST_F(FhirExportTest, AJobHoldsExactlyItsOrganisationsPeopleEachAuditedOnce) {
  std::vector<std::string> ours, theirs;
  for (int i = 0; i < 5; ++i) ours.push_back(SeedPerson(kTrust, NextNhsNumber()).person_id());
  for (int i = 0; i < 2; ++i) {
    theirs.push_back(SeedPerson(kOtherTrust, NextNhsNumber()).person_id());
  }
  ExportJobs jobs(stack.db(), folder.string(), std::chrono::hours(1), /*lines_per_file=*/2);
  jobs.Start();
  const Caller caller = As(kTrust, Role::kClinician, "export-complete");
  auto id = jobs.Kickoff(caller, System());
  ASSERT_TRUE(id.ok()) << id.status();
  auto status = Finished(jobs, caller, *id);
  ASSERT_EQ(status.state, ExportStatus::State::kDone) << status.error;
  EXPECT_FALSE(status.transaction_time.empty());
  EXPECT_EQ(status.request_url, "https://icr.example.org/fhir/$export");

  const auto seen = SeenBy(kTrust);
  auto ids = Ids(jobs, caller, *id, status, "Patient");
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), seen);
  EXPECT_EQ(ids.size(), seen.size()) << "a person exported twice";
  for (const auto& p : ours) EXPECT_EQ(ids.count(p), 1u) << p;
  for (const auto& p : theirs) EXPECT_EQ(ids.count(p), 0u) << p;
  // Two lines per file: the Patient resources are split over several files.
  EXPECT_GE(status.files.size(), (seen.size() + 1) / 2);
  EXPECT_EQ(status.progress,
            std::to_string(seen.size()) + " of " + std::to_string(seen.size()) + " people");

  // One audit row per person, on behalf of the caller.
  EXPECT_EQ(AuditRows("export-complete"), std::to_string(seen.size()));
  EXPECT_EQ(AuditRows("export-complete", "count(DISTINCT person_id)"), std::to_string(seen.size()));
  EXPECT_EQ(AuditRows("export-complete", "string_agg(DISTINCT org_code || '/' || role, ',')"),
            "RGD/clinician");

  // Another organisation: no such job, no such file, nothing to cancel.
  const Caller other = As(kOtherTrust, Role::kClinician, "peek");
  EXPECT_EQ(jobs.Status(other, *id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(jobs.FilePath(other, *id, status.files[0].name).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(jobs.Cancel(other, *id).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(jobs.Status(caller, "not-a-job").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(jobs.FilePath(caller, *id, "../../etc/passwd").status().code(),
            absl::StatusCode::kNotFound);
  jobs.Stop();
}

TEST_F(FhirExportTest, WhoMayExportAndWhatTheyMayAskFor) {
  ExportJobs jobs(stack.db(), folder.string(), std::chrono::hours(1));
  EXPECT_EQ(jobs.Kickoff(As(kTrust, Role::kPerformanceAnalyst, "a"), System()).status().code(),
            absl::StatusCode::kPermissionDenied);
  auto glass = As(kTrust, Role::kPerformanceAnalyst, "b");
  glass.break_glass_reason = "emergency";
  EXPECT_EQ(jobs.Kickoff(glass, System()).status().code(), absl::StatusCode::kPermissionDenied);

  const Caller caller = As(kTrust, Role::kSystem, "c");
  auto bad_type = jobs.Kickoff(caller, System({"Patient", "AuditEvent"}));
  EXPECT_EQ(bad_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(bad_type.status().message(), "_type")) << bad_type.status();
  auto bad_since = jobs.Kickoff(caller, System({}, "yesterday"));
  EXPECT_EQ(bad_since.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(bad_since.status().message(), "_since")) << bad_since.status();

  // Groups: only the organisation's own.
  ExportKickoff group = System();
  group.level = "group";
  for (const std::string g : {"caseload-RX4", "s117-E08000035", "s117-QWO", "team-x", ""}) {
    group.group_id = g;
    EXPECT_EQ(jobs.Kickoff(caller, group).status().code(), absl::StatusCode::kNotFound) << g;
  }
  group.group_id = "caseload-RGD";
  EXPECT_TRUE(jobs.Kickoff(caller, group).ok());
}

TEST_F(FhirExportTest, OneActiveJobPerOrganisationAndCancelling) {
  SeedPerson(kTrust, NextNhsNumber());
  ExportJobs jobs(stack.db(), folder.string(), std::chrono::hours(1));  // no worker yet
  const Caller caller = As(kTrust, Role::kSocialWorker, "one-at-a-time");
  auto first = jobs.Kickoff(caller, System());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(jobs.Status(caller, *first)->state, ExportStatus::State::kQueued);
  EXPECT_EQ(jobs.Kickoff(caller, System()).status().code(), absl::StatusCode::kResourceExhausted);
  // Another organisation is not held up.
  EXPECT_TRUE(jobs.Kickoff(As(kOtherTrust, Role::kSystem, "x"), System()).ok());

  // A queued job cancelled is gone, and frees the organisation's slot.
  EXPECT_TRUE(jobs.Cancel(caller, *first).ok());
  EXPECT_EQ(jobs.Status(caller, *first).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(jobs.Cancel(caller, *first).code(), absl::StatusCode::kNotFound);

  // A finished job cancelled is removed with its files.
  const auto [second, done] = RunHere(jobs, caller, System());
  ASSERT_EQ(done.state, ExportStatus::State::kDone);
  ASSERT_FALSE(done.files.empty());
  EXPECT_TRUE(fs::exists(folder / second / done.files[0].name));
  EXPECT_TRUE(jobs.Cancel(caller, second).ok());
  EXPECT_FALSE(fs::exists(folder / second));
  EXPECT_EQ(jobs.FilePath(caller, second, done.files[0].name).status().code(),
            absl::StatusCode::kNotFound);

  // A job cancelled while the worker may be running it: gone either way, files and all.
  jobs.Start();
  auto third = jobs.Kickoff(caller, System());
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_TRUE(jobs.Cancel(caller, *third).ok());
  EXPECT_EQ(jobs.Status(caller, *third).status().code(), absl::StatusCode::kNotFound);
  for (int i = 0;
       i < 100 &&
       !stack.Scalar("SELECT job_id FROM fhir.export_job WHERE job_id = '" + *third + "'").empty();
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM fhir.export_job WHERE job_id = '" + *third + "'"),
            "0");
  EXPECT_FALSE(fs::exists(folder / *third));
  jobs.Stop();
}

TEST_F(FhirExportTest, TypeAndSinceFilter) {
  auto early = SeedPerson(kOtherTrust, NextNhsNumber());
  auto changed = SeedPerson(kOtherTrust, NextNhsNumber());
  const std::string since = stack.Scalar(
      "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // A change to their record (any write to a table the record is built from stamps it).
  stack.Scalar("UPDATE core.person SET given_name = 'Renamed' WHERE person_id = '" +
               changed.person_id() + "'");

  ExportJobs jobs(stack.db(), folder.string(), std::chrono::hours(1));
  const Caller caller = As(kOtherTrust, Role::kSystem, "since");
  const auto [id, status] = RunHere(jobs, caller, System({"Patient"}, since));
  ASSERT_EQ(status.state, ExportStatus::State::kDone);
  EXPECT_EQ(Ids(jobs, caller, id, status, "Patient"),
            std::multiset<std::string>{changed.person_id()});
  EXPECT_EQ(AuditRows("since"), "1");

  // _type: only the types asked for (no Patient file when not asked).
  const Caller plans = As(kOtherTrust, Role::kSystem, "types");
  const auto [typed, typed_status] = RunHere(jobs, plans, System({"CarePlan", "Encounter"}));
  ASSERT_EQ(typed_status.state, ExportStatus::State::kDone);
  for (const auto& f : typed_status.files) {
    EXPECT_TRUE(f.type == "CarePlan" || f.type == "Encounter") << f.name;
  }
  EXPECT_EQ(AuditRows("types"), std::to_string(SeenBy(kOtherTrust).size()));
  (void)early;
}

TEST_F(FhirExportTest, ExpiredJobsAreRemovedWithTheirFiles) {
  SeedPerson(kOtherTrust, NextNhsNumber());
  ExportJobs jobs(stack.db(), folder.string(), std::chrono::seconds(1));
  const Caller caller = As(kOtherTrust, Role::kSystem, "expiry");
  const auto [id, status] = RunHere(jobs, caller, System());
  ASSERT_EQ(status.state, ExportStatus::State::kDone);
  ASSERT_FALSE(status.files.empty());
  const std::string name = status.files[0].name;
  EXPECT_TRUE(jobs.FilePath(caller, id, name).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(jobs.FilePath(caller, id, name).status().code(), absl::StatusCode::kNotFound);
  jobs.SweepOnce();
  EXPECT_FALSE(fs::exists(folder / id));
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM fhir.export_job WHERE job_id = '" + id + "'"), "0");
  EXPECT_EQ(jobs.Status(caller, id).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace icr::test
