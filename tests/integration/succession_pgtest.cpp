// Organisation successions applied, on a real store through real gRPC (issue 22 item 2): the
// shipped April 2026 ICB successions loaded by `icrctl refdata load`, then ApplySuccessions moves
// the open entitlement, open care plan, people and token naming QMJ to Z9B2Z on 2026-04-01 and
// not the day before; an ended entitlement stays with QMJ; history, change feed and audit rows
// are written; a rerun moves nothing; the S117 indicators of a past month under QMJ are the same
// after as before. A council split (a test county into two test unitaries, with a successor
// areas file) lists a work list with proposals from the postcode district, which the successors'
// officers resolve (accept one, change one). icr-server's own runner applies a succession due
// without anyone calling it.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "icr/v1/careplan.grpc.pb.h"
#include "icr/v1/performance.grpc.pb.h"
#include "icr/v1/record.grpc.pb.h"
#include "icr/v1/s117.grpc.pb.h"
#include "services/common/auth.h"
#include "services/s117/successions.h"
#include "services/server/host.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

constexpr char kCamden[] = "E09000007";
constexpr char kCounty[] = "E10000099";  // a test county, split on 2026-04-01
constexpr char kEast[] = "E06000991";
constexpr char kWest[] = "E06000992";
constexpr char kPastMonth[] = "2025-11";  // QMJ was responsible then
constexpr char kNowMonth[] = "2026-11";

// The reference files this test writes, removed when it ends.
std::vector<std::string> written;

std::string Write(const std::string& name, const std::string& text) {
  const std::string path = "/tmp/succ-test-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path) << text;
  written.push_back(path);
  return path;
}

CommandRun Icrctl(const std::string& args) { return RunCommand(std::string(ICRCTL) + " " + args); }

class SuccessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    url_ = new std::string(Stack::NewDatabase("succession"));
    db_ = new Database(*url_, 4);
    // The organisations first (the test county open), the services, the people and records
    // naming the old bodies, and only then the successions (as when ODS publishes them).
    const std::string orgs = Write("orgs.csv",
                                   "code,kind,name,icb_code,opened_on,closed_on\n"
                                   "E10000099,council,Test Shire County Council,,,\n"
                                   "E06000991,council,East Test Shire Council,,2026-04-01,\n"
                                   "E06000992,council,West Test Shire Council,,2026-04-01,\n"
                                   "R1X9Z,trust,Test Old Trust,,,\n"
                                   "R2X9Z,trust,Test New Trust,,2026-06-01,\n");
    auto load = Icrctl("refdata load " REFDATA_DIR "/2026-04-icb-organisations.csv " + orgs +
                       " --database-url '" + *url_ + "'");
    ASSERT_EQ(load.exit_code, 0) << load.output;
    HostOptions options;
    options.services = {"record", "s117", "careplan", "performance"};
    options.national_store = true;
    auto host = Host::Start(*db_, options);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = host->release();
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->port()),
                                       grpc::InsecureChannelCredentials());
    record_ = icr::v1::RecordService::NewStub(channel).release();
    s117_ = icr::v1::S117RegisterService::NewStub(channel).release();
    plans_ = icr::v1::CarePlanService::NewStub(channel).release();
    perf_ = icr::v1::PerformanceService::NewStub(channel).release();
    Seed();
  }
  static void TearDownTestSuite() {
    for (const auto& path : written) std::remove(path.c_str());
    delete perf_;
    delete plans_;
    delete s117_;
    delete record_;
    delete host_;
    delete db_;
    delete url_;
  }

  static std::string Token(const std::string& org, Role role) {
    auto token = Authenticator::CreateToken(*db_, org, role, "succession test");
    EXPECT_TRUE(token.ok()) << token.status();
    return *token;
  }
  static std::string Sql(const std::string& sql) { return ScalarAt(*url_, sql); }

  static icr::v1::Person Person(const std::string& council, const std::string& icb,
                                const std::string& postcode) {
    icr::v1::UpsertPersonRequest up;
    *up.mutable_person() = MakePerson(NextNhsNumber());
    up.mutable_person()->set_council_code(council);
    up.mutable_person()->set_icb_code(icb);
    up.mutable_person()->set_postcode(postcode);
    icr::v1::Person person;
    auto s = record_->UpsertPerson(Ctx(Token("RGD", Role::kSystem)).get(), up, &person);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return person;
  }

  // An ACTIVE entitlement in force from 2025-07-01, opened by the council's s117 officer.
  static std::string Entitlement(const icr::v1::Person& p, const std::string& council,
                                 const std::string& icb) {
    icr::v1::OpenEntitlementRequest r;
    r.set_nhs_number(p.nhs_number());
    r.set_legal_status_code("03");
    r.set_detention_start_date("2025-05-05");
    r.set_detaining_provider_code("RGD");
    r.set_state("ACTIVE");
    r.set_ceased_detained_date("2025-07-01");
    r.set_left_hospital_date("2025-07-01");
    r.set_effective_from("2025-07-01");
    r.set_registered_on("2025-07-01");
    r.mutable_council()->set_code(council);
    r.mutable_council()->set_basis("OR_ENGLAND_S117_3A");
    r.mutable_icb()->set_code(icb);
    r.mutable_icb()->set_basis("CORE_GP_REGISTRATION");
    r.set_reason("carried over from the council's spreadsheet register");
    icr::v1::Entitlement e;
    auto s = s117_->OpenEntitlement(Ctx(Token(council, Role::kS117Officer)).get(), r, &e);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return e.entitlement_id();
  }

  static void Seed() {
    // Two people of Camden and QMJ: one open entitlement and care plan acting for QMJ; one
    // entitlement that ended in December 2025.
    open_person_ = new icr::v1::Person(Person(kCamden, "QMJ", "NW1 2DB"));
    ended_person_ = new icr::v1::Person(Person(kCamden, "QMJ", "NW1 2DB"));
    open_ = new std::string(Entitlement(*open_person_, kCamden, "QMJ"));
    ended_ = new std::string(Entitlement(*ended_person_, kCamden, "QMJ"));
    Sql("INSERT INTO s117.funding_agreement (council_code, icb_code, valid_from, council_pct, "
        "icb_pct, review_interval_months) VALUES ('E09000007', 'QMJ', '2020-01-01', 40, 60, 6)");
    Sql("UPDATE s117.episode SET state = 'ENDED_SUPERSEDED', ended_on = '2025-12-01' "
        "WHERE episode_id = '" +
        *ended_ + "'");
    icr::v1::CreateCarePlanRequest plan;
    plan.set_nhs_number(open_person_->nhs_number());
    *plan.mutable_plan() = build::CarePlanContent(true, "RGD", "2027-01-15");
    plan.mutable_plan()->set_acting_for_council_code(kCamden);
    plan.mutable_plan()->set_acting_for_icb_code("QMJ");
    icr::v1::CarePlan created;
    auto s = plans_->CreateCarePlan(Ctx(Token("RGD", Role::kClinician)).get(), plan, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    plan_ = new std::string(created.plan_id());
    qmj_token_ = new std::string(Token("QMJ", Role::kS117Officer));
    // Two people of the test county: one in a postcode district the areas file gives to East
    // (with an entitlement), one in a district it does not list.
    east_person_ = new icr::v1::Person(Person(kCounty, "QWO", "KT10 9AA"));
    county_entitlement_ = new std::string(Entitlement(*east_person_, kCounty, "QWO"));
    unlisted_person_ = new icr::v1::Person(Person(kCounty, "QWO", "TW18 1AA"));
    Sql("INSERT INTO core.api_token (token_sha256, org_code, role, label) "
        "VALUES (sha256('succession-test-old-trust'), 'R1X9Z', 'system', 'old trust')");
    // Now the successions: the shipped ICB file, the county's split and its areas, the trust.
    const std::string split = Write("split.csv",
                                    "E10000099,E06000991,R,20260401,\n"
                                    "E10000099,E06000992,R,20260401,\n"
                                    "R1X9Z,R2X9Z,R,20260601,\n");
    const std::string areas =
        Write("areas.csv",
              "predecessor_code,successor_code,effective_on,postcode_district\n"
              "E10000099,E06000991,2026-04-01,KT10\n"
              "E10000099,E06000992,2026-04-01,GU1\n");
    auto load = Icrctl("refdata load " REFDATA_DIR "/2026-04-icb-successors.csv " + split + " " +
                       areas + " --database-url '" + *url_ + "'");
    EXPECT_EQ(load.exit_code, 0) << load.output;
    EXPECT_NE(load.output.find("successor_areas: 2 added"), std::string::npos) << load.output;
  }

  static grpc::Status Apply(const std::string& as_of, bool dry_run,
                            icr::v1::ApplySuccessionsResponse* resp) {
    icr::v1::ApplySuccessionsRequest req;
    req.set_as_of(as_of);
    req.set_dry_run(dry_run);
    return s117_->ApplySuccessions(Ctx(Token("RGD", Role::kAdmin)).get(), req, resp);
  }

  // The S117 indicators of `month` under one ICB, recomputed now, as text.
  static std::string Indicators(const std::string& month, const std::string& icb) {
    icr::v1::ComputeIndicatorsRequest req;
    req.set_from_month(month);
    icr::v1::ComputeIndicatorsResponse resp;
    auto s =
        perf_->ComputeIndicators(Ctx(Token("QWO", Role::kPerformanceAnalyst)).get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return Sql(
        "SELECT string_agg(indicator_id || '/' || breakdown || '/' || breakdown_value || "
        "'=' || coalesce(numerator::text, '') || ':' || coalesce(denominator::text, ''), "
        "',' ORDER BY indicator_id, breakdown, breakdown_value) FROM perf.kpi_result "
        "WHERE period_start = '" +
        month + "-01' AND scope_type = 'icb' AND scope_code = '" + icb +
        "' AND indicator_id LIKE 'S117%'");
  }

  static std::string Counts() {
    return Sql(
        "SELECT (SELECT count(*) FROM core.changes) || '/' || (SELECT count(*) FROM "
        "s117.episode_history) || '/' || (SELECT count(*) FROM core.succession_move) || "
        "'/' || (SELECT count(*) FROM core.audit) || '/' || (SELECT count(*) FROM "
        "core.succession_work) || '/' || (SELECT max(version) FROM core.person)");
  }

  static const icr::v1::SuccessionApplied* Find(const icr::v1::ApplySuccessionsResponse& r,
                                                const std::string& from) {
    for (const auto& s : r.successions()) {
      if (s.predecessor_code() == from) return &s;
    }
    return nullptr;
  }

  static inline std::string* url_ = nullptr;
  static inline Database* db_ = nullptr;
  static inline Host* host_ = nullptr;
  static inline icr::v1::RecordService::Stub* record_ = nullptr;
  static inline icr::v1::S117RegisterService::Stub* s117_ = nullptr;
  static inline icr::v1::CarePlanService::Stub* plans_ = nullptr;
  static inline icr::v1::PerformanceService::Stub* perf_ = nullptr;
  static inline icr::v1::Person *open_person_, *ended_person_, *east_person_, *unlisted_person_;
  static inline std::string *open_, *ended_, *plan_, *qmj_token_, *county_entitlement_;
};

TEST_F(SuccessionTest, AnIcbSuccessionMovesOpenThingsOnItsDateAndKeepsPastMonths) {
  const std::string past_before = Indicators(kPastMonth, "QMJ");
  ASSERT_NE(past_before.find("S117_ACTIVE/none/=2:"), std::string::npos) << past_before;

  // The day before: nothing moves, nothing is written.
  const std::string before = Counts();
  icr::v1::ApplySuccessionsResponse r;
  ASSERT_TRUE(Apply("2026-03-31", false, &r).ok());
  EXPECT_EQ(r.successions_size(), 0);
  EXPECT_EQ(Counts(), before);
  EXPECT_EQ(
      Sql("SELECT responsible_icb_code FROM s117.episode WHERE episode_id = '" + *open_ + "'"),
      "QMJ");

  // A dry run on the date counts and changes nothing.
  ASSERT_TRUE(Apply("2026-04-01", true, &r).ok());
  ASSERT_NE(Find(r, "QMJ"), nullptr);
  EXPECT_EQ(Find(r, "QMJ")->entitlements(), 1);
  EXPECT_TRUE(r.dry_run());
  EXPECT_EQ(Counts(), before);

  // On the date: the open entitlement, care plan, both people and the token move, once.
  ASSERT_TRUE(Apply("2026-04-01", false, &r).ok());
  const auto* qmj = Find(r, "QMJ");
  ASSERT_NE(qmj, nullptr);
  EXPECT_EQ(qmj->kind(), "one_to_one");
  EXPECT_EQ(qmj->successor_codes(0), "Z9B2Z");
  EXPECT_EQ(qmj->entitlements(), 1);
  EXPECT_EQ(qmj->care_plans(), 1);
  EXPECT_EQ(qmj->people(), 2);
  EXPECT_EQ(qmj->tokens(), 1);
  EXPECT_EQ(qmj->agreements(), 1);
  // Camden's agreement with QMJ stays as it was; Z9B2Z has the same from the date.
  EXPECT_EQ(Sql("SELECT string_agg(icb_code || ':' || valid_from || ':' || council_pct, ',' "
                "ORDER BY icb_code) FROM s117.funding_agreement WHERE council_code = 'E09000007'"),
            "QMJ:2020-01-01:40.00,Z9B2Z:2026-04-01:40.00");
  EXPECT_EQ(Sql("SELECT responsible_icb_code || '/' || responsible_council_code FROM s117.episode "
                "WHERE episode_id = '" +
                *open_ + "'"),
            "Z9B2Z/E09000007");
  EXPECT_EQ(
      Sql("SELECT responsible_icb_code FROM s117.episode WHERE episode_id = '" + *ended_ + "'"),
      "QMJ");
  EXPECT_EQ(Sql("SELECT string_agg(icb_code, ',') FROM core.person WHERE person_id IN ('" +
                open_person_->person_id() + "', '" + ended_person_->person_id() + "')"),
            "Z9B2Z,Z9B2Z");
  EXPECT_EQ(Sql("SELECT org_code FROM core.api_token WHERE label = 'succession test' AND role = "
                "'s117_officer' AND org_code IN ('QMJ', 'Z9B2Z')"),
            "Z9B2Z");
  icr::v1::GetCarePlanRequest get;
  get.set_plan_id(*plan_);
  icr::v1::CarePlan plan;
  ASSERT_TRUE(plans_->GetCarePlan(Ctx(Token("RGD", Role::kClinician)).get(), get, &plan).ok());
  EXPECT_EQ(plan.acting_for_icb_code(), "Z9B2Z");
  EXPECT_EQ(plan.change(), "succession");
  // The register's history, the change feed and the audit have each move.
  EXPECT_EQ(Sql("SELECT action || ': ' || reason FROM s117.episode_history WHERE episode_id = '" +
                *open_ + "' ORDER BY version DESC LIMIT 1"),
            "s117_succession: QMJ succeeded by Z9B2Z on 2026-04-01");
  EXPECT_EQ(Sql("SELECT count(*) FROM core.changes WHERE (entity, entity_id, change_type) IN "
                "(('s117_episode', '" +
                *open_ + "', 's117_succession'), ('care_plan', '" + *plan_ +
                "', 'succession'), ('person', '" + open_person_->person_id() +
                "', 'updated'), "
                "('organisation', 'QMJ', 'succession'))"),
            "4");
  EXPECT_EQ(Sql("SELECT count(*) FROM core.audit WHERE action = 'ApplySuccessions' AND org_code = "
                "'RGD' AND role = 'admin' AND person_id IN ('" +
                open_person_->person_id() + "', '" + ended_person_->person_id() + "')"),
            "2");
  EXPECT_EQ(Sql("SELECT string_agg(entity || ':' || role || ':' || effective_on, ',' ORDER BY "
                "entity) FROM core.succession_move WHERE from_code = 'QMJ'"),
            "api_token:org:2026-04-01,care_plan:icb:2026-04-01,person:icb:2026-04-01,"
            "person:icb:2026-04-01,s117_episode:icb:2026-04-01");

  // A rerun moves nothing and writes nothing.
  const std::string after = Counts();
  ASSERT_TRUE(Apply("2026-04-01", false, &r).ok());
  EXPECT_EQ(Find(r, "QMJ"), nullptr);
  EXPECT_EQ(Counts(), after);

  // Last year's indicators are unchanged under QMJ; this month's count under Z9B2Z.
  EXPECT_EQ(Indicators(kPastMonth, "QMJ"), past_before);
  EXPECT_EQ(Indicators(kPastMonth, "Z9B2Z"), "");
  const std::string now = Indicators(kNowMonth, "Z9B2Z");
  EXPECT_NE(now.find("S117_ACTIVE/none/=1:"), std::string::npos) << now;
  EXPECT_EQ(Indicators(kNowMonth, "QMJ"), "");
}

TEST_F(SuccessionTest, ApplyingIsAnAdminsAndRefusesBadDates) {
  icr::v1::ApplySuccessionsResponse r;
  EXPECT_EQ(Apply("", false, &r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto s = Apply("2099-01-01", false, &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("as_of: after today", 0), 0u) << s.error_message();
  icr::v1::ApplySuccessionsRequest req;
  req.set_as_of("2026-04-01");
  EXPECT_EQ(
      s117_->ApplySuccessions(Ctx(Token(kCamden, Role::kS117Officer)).get(), req, &r).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(SuccessionTest, ACouncilSplitListsWorkThatTheSuccessorsResolve) {
  icr::v1::ApplySuccessionsResponse r;
  ASSERT_TRUE(Apply("2026-04-01", false, &r).ok());  // idempotent after the ICB test
  ASSERT_TRUE(Apply("2026-04-01", false, &r).ok());
  EXPECT_EQ(Find(r, kCounty), nullptr);  // listed once
  EXPECT_EQ(Sql("SELECT count(*) FROM core.succession_work WHERE predecessor_code = '" +
                std::string(kCounty) + "'"),
            "3");
  // Nothing of the county's moved by itself.
  EXPECT_EQ(Sql("SELECT responsible_council_code FROM s117.episode WHERE episode_id = '" +
                *county_entitlement_ + "'"),
            kCounty);

  const std::string east = Token(kEast, Role::kS117Officer);
  icr::v1::ListSuccessionWorkRequest list;
  list.set_body_code(kCounty);
  icr::v1::ListSuccessionWorkResponse items;
  ASSERT_TRUE(s117_->ListSuccessionWork(Ctx(east).get(), list, &items).ok());
  ASSERT_EQ(items.items_size(), 3);
  const icr::v1::SuccessionWorkItem *entitlement_item = nullptr, *unlisted_item = nullptr;
  for (const auto& w : items.items()) {
    EXPECT_EQ(w.successor_codes_size(), 2);
    if (w.entity() == "s117_episode") entitlement_item = &w;
    if (w.nhs_number() == unlisted_person_->nhs_number()) unlisted_item = &w;
  }
  ASSERT_NE(entitlement_item, nullptr);
  ASSERT_NE(unlisted_item, nullptr);
  EXPECT_EQ(entitlement_item->proposed_code(), kEast);
  EXPECT_EQ(entitlement_item->proposal_basis(), "postcode district KT10");
  EXPECT_EQ(unlisted_item->proposed_code(), "");
  EXPECT_EQ(unlisted_item->proposal_basis(),
            "decide: postcode district TW18 is not in the area table");
  // Each person listed is audited; an unrelated council sees none of it.
  EXPECT_EQ(Sql("SELECT count(DISTINCT person_id) FROM core.audit WHERE action = "
                "'ListSuccessionWork' AND org_code = '" +
                std::string(kEast) + "'"),
            "2");
  icr::v1::ListSuccessionWorkResponse none;
  ASSERT_TRUE(
      s117_->ListSuccessionWork(Ctx(Token(kCamden, Role::kS117Officer)).get(), {}, &none).ok());
  EXPECT_EQ(none.items_size(), 0);

  // Accept one: the entitlement moves to East, dated.
  icr::v1::ResolveSuccessionWorkRequest accept;
  accept.set_work_id(entitlement_item->work_id());
  icr::v1::SuccessionWorkItem done;
  ASSERT_TRUE(s117_->ResolveSuccessionWork(Ctx(east).get(), accept, &done).ok());
  EXPECT_EQ(done.status(), "RESOLVED");
  EXPECT_EQ(done.resolved_code(), kEast);
  EXPECT_EQ(Sql("SELECT responsible_council_code FROM s117.episode WHERE episode_id = '" +
                *county_entitlement_ + "'"),
            kEast);
  EXPECT_EQ(Sql("SELECT effective_on || '/' || (work_id IS NOT NULL) FROM core.succession_move "
                "WHERE entity_id = '" +
                *county_entitlement_ + "'"),
            "2026-04-01/true");
  // Resolved once only.
  EXPECT_EQ(s117_->ResolveSuccessionWork(Ctx(east).get(), accept, &done).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  // Change one: the unlisted district's person goes to West, named by West's officer; a body
  // that is not a successor is refused, and a stranger sees no such item.
  icr::v1::ResolveSuccessionWorkRequest change;
  change.set_work_id(unlisted_item->work_id());
  change.set_successor_code(kCamden);
  const std::string west = Token(kWest, Role::kS117Officer);
  auto s = s117_->ResolveSuccessionWork(Ctx(west).get(), change, &done);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("successor_code: ", 0), 0u) << s.error_message();
  change.set_successor_code(kWest);
  EXPECT_EQ(
      s117_->ResolveSuccessionWork(Ctx(Token(kCamden, Role::kS117Officer)).get(), change, &done)
          .error_code(),
      grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Sql("SELECT count(*) FROM core.audit WHERE action = 'ResolveSuccessionWork' AND "
                "org_code = '" +
                std::string(kCamden) + "' AND outcome = 'denied' AND person_id = '" +
                unlisted_person_->person_id() + "'"),
            "1");
  icr::v1::ResolveSuccessionWorkRequest absent;
  absent.set_work_id("00000000-0000-0000-0000-000000000001");
  EXPECT_EQ(s117_->ResolveSuccessionWork(Ctx(west).get(), absent, &done).error_message(),
            "work_id: no such work item visible to you");
  ASSERT_TRUE(s117_->ResolveSuccessionWork(Ctx(west).get(), change, &done).ok());
  EXPECT_EQ(Sql("SELECT council_code FROM core.person WHERE person_id = '" +
                unlisted_person_->person_id() + "'"),
            kWest);
  // No proposal and no choice: INVALID_ARGUMENT naming successor_code (the open person item of
  // the East district still has its proposal, so it is accepted instead).
  ASSERT_TRUE(s117_->ListSuccessionWork(Ctx(east).get(), list, &items).ok());
  ASSERT_EQ(items.items_size(), 1);  // only the open one left
  EXPECT_EQ(items.items(0).nhs_number(), east_person_->nhs_number());

  // The CLI lists the same, with --all the resolved ones too.
  auto cli = Icrctl("refdata work list --all --body " + std::string(kCounty) +
                    " --server 127.0.0.1:" + std::to_string(host_->port()) + " --token " + east);
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("3 items"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("RESOLVED"), std::string::npos) << cli.output;
}

TEST_F(SuccessionTest, TheCliAppliesAndTheServerRunsItselfOnTheDate) {
  const std::string target = " --server 127.0.0.1:" + std::to_string(host_->port()) + " --token " +
                             Token("RGD", Role::kAdmin);
  auto dry = Icrctl("refdata apply-successions --dry-run" + target);
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("R1X9Z"), std::string::npos) << dry.output;
  EXPECT_EQ(Sql("SELECT org_code FROM core.api_token WHERE label = 'old trust'"), "R1X9Z");
  // icr-server's runner (no one calls ApplySuccessions): the trust's token moves on its own.
  s117::SuccessionRunner runner(*db_, std::chrono::seconds(3600), [] { return true; });
  for (int i = 0;
       i < 100 && Sql("SELECT org_code FROM core.api_token WHERE label = 'old trust'") != "R2X9Z";
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(Sql("SELECT org_code FROM core.api_token WHERE label = 'old trust'"), "R2X9Z");
  EXPECT_EQ(Sql("SELECT applied_by FROM core.succession_move WHERE from_code = 'R1X9Z'"),
            "icr-server");
  auto again = Icrctl("refdata apply-successions" + target);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("nothing to move"), std::string::npos) << again.output;
}

}  // namespace
}  // namespace icr::test
