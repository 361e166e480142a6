// Integration test harness: a fresh database per test process in the PostgreSQL cluster named by
// ICR_TEST_PG (libpq key=value without dbname; tests/run.sh sets it), migrated, with every
// service hosted in-process on a free port and reached through a real gRPC channel.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <string>

#include "icr/v1/record.grpc.pb.h"
#include "services/common/db.h"
#include "services/server/host.h"
#include "tests/support/builders.h"

namespace icr::test {

class Stack {
 public:
  // The process-wide stack, created on first use. Aborts the test run with a clear message when
  // ICR_TEST_PG is not set: integration tests never pass without a database.
  static Stack& Get();

  const std::string& target() const { return target_; }
  const std::string& database_url() const { return url_; }
  Database& db() { return *db_; }
  // The FHIR API's HTTP port (served at /fhir).
  int fhir_port() const { return host_->fhir_port(); }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  std::unique_ptr<icr::v1::RecordService::Stub> record() {
    return icr::v1::RecordService::NewStub(channel_);
  }

  // A bearer token for org and role (created once, then reused).
  std::string Token(const std::string& org, const std::string& role);

  // A single value from SQL run directly against the test database, for assertions.
  std::string Scalar(const std::string& sql);

  // Creates another fresh, migrated database in the same cluster; returns its URL.
  static std::string NewDatabase(const std::string& prefix);

 private:
  Stack() = default;
  std::string url_;
  std::string target_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Host> host_;
  std::shared_ptr<grpc::Channel> channel_;
  std::map<std::string, std::string> tokens_;
};

// Services on a database of their own, for tests whose answers count everything in it (the
// indicators): a new migrated database named after `prefix`, `services` hosted on a free port,
// a channel to them. A national store shows England-level figures unrounded. read_only_reads:
// the performance service's reads go to a second pool whose sessions are read-only, as on a
// replica (--database-read-url), so a read path that wrote would fail.
struct OwnStack {
  std::string url;
  std::unique_ptr<Database> db;
  std::unique_ptr<Database> read_db;  // null unless read_only_reads
  std::unique_ptr<Host> host;
  std::shared_ptr<grpc::Channel> channel;
};
absl::StatusOr<OwnStack> StartOwnStack(const std::string& prefix,
                                       const std::set<std::string>& services, bool national_store,
                                       bool read_only_reads = false);

// A client context with the bearer token and optional extra metadata, and a 30 s deadline.
std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token,
                                         const std::map<std::string, std::string>& metadata = {});

// A unique NHS number in the 999 test range, valid under Modulus 11.
std::string NextNhsNumber();

// The first value of the first row of `sql`, run on its own (committed) on database `url`; ""
// for no row or NULL.
std::string ScalarAt(const std::string& url, const std::string& sql);

// A valid person with the given NHS number, living in Leeds (tests/support/builders.h).
using build::MakePerson;

// Upserts a person as org (role system) and returns it; fails the test on error.
icr::v1::Person SeedPerson(const std::string& org, const std::string& nhs_number);

// Sends events as org; returns the status.
grpc::Status Send(const std::string& token, const std::vector<icr::v1::Event>& events,
                  icr::v1::RecordEventsResponse* response = nullptr);

// Applies every committed change to the S117 register now, with a follower of the test's own
// (the service's follower does the same every 200 ms). The feed only moves past a change once no
// older transaction anywhere in the cluster is still open (other test binaries share it), so it
// repeats until nothing committed is left behind the cursor (30 s at most); fails the test on
// error.
void CatchUpS117Feed();

// A shell command's exit code (-1 when it did not exit) and its stdout and stderr together.
struct CommandRun {
  int exit_code;
  std::string output;
};
CommandRun RunCommand(const std::string& command);

}  // namespace icr::test
