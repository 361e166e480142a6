// A council's CLD return through RecordService.ImportDataset with icrctl (import cld): the
// fixture's return (tests/support/cld_fixture.h, with its hand-worked answers) loaded, loaded
// again unchanged, resubmitted with one service's end date corrected, and loaded once more after
// the person it could not place (no valid NHS number) was registered under the council's person
// id. The record, the change feed and the report are checked against the answers.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "services/common/auth.h"
#include "services/datasets/cld_map.h"
#include "tests/integration/harness.h"
#include "tests/support/cld_fixture.h"

namespace icr::test {
namespace {
using icr::v1::DatasetImportJob;

constexpr char kCouncil[] = "E08000035";

class CldImportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto own = StartOwnStack("cld", {"record"}, /*national_store=*/false);
    ASSERT_TRUE(own.ok()) << own.status();
    stack_ = new OwnStack(std::move(*own));
    auto t = Authenticator::CreateToken(*stack_->db, kCouncil, Role::kSystem, "cld import test");
    ASSERT_TRUE(t.ok());
    token_ = *t;
  }
  static void TearDownTestSuite() { delete stack_; }

  // Loads `ret` with icrctl; the job as printed with --json, and the exit code.
  static std::pair<DatasetImportJob, int> Load(const fixtures::CldReturn& ret) {
    const std::string file =
        ::testing::TempDir() + "cld-" + std::to_string(getpid()) + "-" + std::to_string(++n_) +
        ".csv";
    std::ofstream(file) << ret.csv;
    const auto run = RunCommand(std::string(ICRCTL) + " import cld " + file + " --json" +
                                " --server 127.0.0.1:" + std::to_string(stack_->host->port()) +
                                " --token " + token_);
    std::filesystem::remove(file);
    DatasetImportJob job;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(run.output, &job).ok())
        << run.output;
    EXPECT_EQ(job.state(), "done") << run.output;
    return {job, run.exit_code};
  }

  static std::string Sql(const std::string& sql) { return ScalarAt(stack_->url, sql); }
  static std::string Count(const std::string& where) {
    return Sql("SELECT count(*) FROM core.social_care_event WHERE " + where);
  }

  static inline OwnStack* stack_ = nullptr;
  static inline std::string token_;
  static inline int n_ = 0;
};

TEST_F(CldImportTest, ReturnResubmittedAndMatchedByCouncilPersonId) {
  const fixtures::CldReturn ret = fixtures::MakeCldReturn({});
  ASSERT_EQ(ret.carer_links, 1);

  // 1. The return: every event stored but the one person's with no valid NHS number (their row,
  //    the person and their request, is refused: no one in the record has their person id yet).
  auto [first, code] = Load(ret);
  EXPECT_EQ(code, 3);  // rows were refused
  const auto& r1 = first.report();
  EXPECT_EQ(r1.sender_org(), kCouncil);
  EXPECT_EQ(r1.period_start(), "2025-10-01");
  EXPECT_EQ(r1.period_end(), "2026-09-30");
  EXPECT_EQ(r1.people(), ret.people);
  EXPECT_EQ(r1.people_matched(), 0);
  const int64_t events =
      ret.requests + ret.assessments + ret.services + ret.reviews + ret.carer_links;
  EXPECT_EQ(r1.stored(), events - 1);  // all but the unplaced person's request
  EXPECT_EQ(r1.refused(), 1);          // that person's row (and their request on it)
  // The refusal names the file's row (the person's first, their request's: the last row).
  int no_one = 0;
  for (const auto& f : r1.refusals()) {
    EXPECT_EQ(f.field(), "nhs_number");
    EXPECT_EQ(f.row(), ret.rows) << f.table();
    EXPECT_NE(f.table(), "events");
    no_one += f.reason().find("names no one in the record") != std::string::npos;
  }
  EXPECT_EQ(no_one, 1);
  EXPECT_EQ(Sql("SELECT count(*) FROM core.person"), std::to_string(ret.people - 1));
  EXPECT_EQ(Count("kind = 'request'"), std::to_string(ret.requests - 1));
  EXPECT_EQ(Count("kind = 'assessment'"), std::to_string(ret.assessments));
  EXPECT_EQ(Count("kind = 'service'"), std::to_string(ret.services));
  EXPECT_EQ(Count("kind = 'review'"), std::to_string(ret.reviews));
  EXPECT_EQ(Count("kind = 'service' AND weekly_cost_pence = " +
                  std::to_string(ret.weekly_cost_pence)),
            std::to_string(ret.services));
  // The carer's assessment sits on the person cared for (service user 1).
  EXPECT_EQ(Sql("SELECT p.nhs_number FROM core.carer_assessment c JOIN core.person p "
                "ON p.person_id = c.person_id"),
            ret.nhs_numbers.at(0));
  // The council's person id is kept as a local identifier.
  EXPECT_EQ(Sql("SELECT count(*) FROM core.person_identifier WHERE system = '" +
                datasets::CldPersonSystem(kCouncil) + "'"),
            std::to_string(ret.people - 1));

  // 2. The same return again: nothing changes.
  const std::string feed_before = Sql("SELECT count(*) FROM core.changes");
  auto [again, code2] = Load(ret);
  EXPECT_EQ(again.report().stored(), 0);
  EXPECT_EQ(again.report().duplicates(), events - 1);
  EXPECT_EQ(again.report().corrected(), 0);
  EXPECT_EQ(again.report().people_matched(), ret.people - 1);
  EXPECT_EQ(Sql("SELECT count(*) FROM core.changes"), feed_before);

  // 3. The resubmission: the first service user's service now ends; one correction, on the feed.
  fixtures::CldOptions resubmitted;
  resubmitted.resubmission = true;
  const fixtures::CldReturn ret2 = fixtures::MakeCldReturn(resubmitted);
  ASSERT_FALSE(ret2.corrected_end_date.empty());
  auto [third, code3] = Load(ret2);
  const auto& r3 = third.report();
  EXPECT_EQ(r3.stored(), 0);
  EXPECT_EQ(r3.corrected(), 1);
  EXPECT_EQ(r3.retracted(), 0);
  EXPECT_EQ(r3.duplicates(), events - 2);
  const std::string care_act_id = ret2.corrected_event_id.substr(4);  // without "cld:"
  EXPECT_EQ(Sql("SELECT end_date FROM core.social_care_event WHERE care_act_id = '" +
                care_act_id + "'"),
            ret2.corrected_end_date);
  EXPECT_EQ(Sql("SELECT count(*) FROM core.changes WHERE change_type = 'event_corrected' AND "
                "entity_id = '" + std::string(kCouncil) + "/" + ret2.corrected_event_id + "'"),
            "1");
  EXPECT_EQ(Count("kind = 'service'"), std::to_string(ret.services));  // corrected, not added

  // 4. The council registers the person it could not place, under its person id: the next load
  //    places their request on them (matched by the council's person id).
  icr::v1::Person p = MakePerson(fixtures::TestNhsNumber(90000));
  auto* local = p.add_local_identifiers();
  local->set_system(datasets::CldPersonSystem(kCouncil));
  local->set_value(ret.unmatched_person_id);
  icr::v1::UpsertPersonRequest upsert;
  *upsert.mutable_person() = p;
  icr::v1::Person stored;
  ASSERT_TRUE(icr::v1::RecordService::NewStub(stack_->channel)
                  ->UpsertPerson(Ctx(token_).get(), upsert, &stored)
                  .ok());
  auto [fourth, code4] = Load(ret2);
  EXPECT_EQ(code4, 0);
  EXPECT_EQ(fourth.report().refused(), 0);
  EXPECT_EQ(fourth.report().stored(), 1);
  EXPECT_EQ(fourth.report().people_matched(), ret.people);
  EXPECT_EQ(Sql("SELECT count(*) FROM core.social_care_event s JOIN core.person p ON "
                "p.person_id = s.person_id WHERE p.nhs_number = '" + p.nhs_number() + "'"),
            "1");

  // 5. Service user 2's NHS number is changed (superseded): the next return, which still
  //    carries the old number, lands on the same person; no one new is created under it.
  icr::v1::ChangeNhsNumberRequest change;
  change.mutable_person()->set_nhs_number(ret.nhs_numbers.at(1));
  change.set_new_nhs_number(fixtures::TestNhsNumber(90001));
  change.set_reason("superseded in PDS");
  icr::v1::Person changed;
  ASSERT_TRUE(icr::v1::RecordService::NewStub(stack_->channel)
                  ->ChangeNhsNumber(Ctx(token_).get(), change, &changed)
                  .ok());
  const std::string people_before = Sql("SELECT count(*) FROM core.person");
  auto [fifth, code5] = Load(ret2);
  EXPECT_EQ(fifth.report().refused(), 0);
  EXPECT_EQ(fifth.report().people_matched(), ret.people);
  EXPECT_EQ(Sql("SELECT count(*) FROM core.person"), people_before);
  EXPECT_EQ(Sql("SELECT count(*) FROM core.person WHERE nhs_number = '" + ret.nhs_numbers.at(1) +
                "'"),
            "0");
}

}  // namespace
}  // namespace icr::test
