// The S117 register's past through a real gRPC channel against real PostgreSQL (issue 18):
// back-dated registration and its bounds, single-agency reviews, migrated joint ends, the
// register import (stored, refused with nothing changed, duplicate rerun, dry run), and the
// two indicators whose meaning changed, hand-worked.
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <thread>

#include "icr/v1/performance.grpc.pb.h"
#include "icr/v1/s117.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/validation.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {
using Code = grpc::StatusCode;
using Outcome = icr::v1::ImportRowResult;

constexpr char kTrust[] = "RGD";
constexpr char kLeeds[] = "E08000035";
constexpr char kCamden[] = "E09000007";
constexpr char kLeedsIcb[] = "QWO";

std::string Day(int days_ago) { return FormatDate(Today() - std::chrono::days{days_ago}); }

// An ACTIVE entitlement opened by hand: detained `left + 60` days ago, left `left` days ago.
icr::v1::OpenEntitlementRequest Open(const std::string& nhs, int left) {
  icr::v1::OpenEntitlementRequest r;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(legal_status_code: "03"
           detaining_provider_code: "RGD"
           state: "ACTIVE"
           council { code: "E08000035" basis: "OR_ENGLAND_S117_3A" }
           icb { code: "QWO" basis: "CORE_GP_REGISTRATION" }
           reason: "carried over from the spreadsheet")pb",
      &r));
  r.set_nhs_number(nhs);
  r.set_detention_start_date(Day(left + 60));
  r.set_ceased_detained_date(Day(left));
  r.set_left_hospital_date(Day(left));
  return r;
}

icr::v1::AftercareService Line(int start_days_ago) {
  icr::v1::AftercareService l;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(service_type: "HOME_CARE"
           provider_name: "Leeds Home Support"
           need_ref: "need-1"
           need_arises_from_mental_disorder: true
           is_s117: true
           funder: "JOINT"
           council_pct: 50
           icb_pct: 50
           weekly_cost_pence: 42000
           delivery_mode: "COMMISSIONED")pb",
      &l));
  l.set_start_date(Day(start_days_ago));
  return l;
}

// A row of Leeds's register: an s3 entitlement of a person born in 1980.
icr::v1::RegisterImportRow LeedsRow(const std::string& nhs, const std::string& ref) {
  icr::v1::RegisterImportRow r;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(family_name: "Okafor"
           given_name: "Ada"
           date_of_birth: "1980-02-03"
           qualifying_section: "S3"
           detaining_provider_code: "RGD"
           council { code: "E08000035" basis: "OR_ENGLAND_S117_3A" }
           icb { code: "QWO" basis: "CORE_GP_REGISTRATION" })pb",
      &r));
  r.set_nhs_number(nhs);
  r.set_source_ref(ref);
  return r;
}

class S117HistoryTest : public ::testing::Test {
 protected:
  std::unique_ptr<icr::v1::S117RegisterService::Stub> s117() {
    return icr::v1::S117RegisterService::NewStub(stack.channel());
  }
  std::string Officer(const std::string& org = kLeeds) { return stack.Token(org, "s117_officer"); }
  // The council's own system, which carries its register over (and may create the people the
  // record does not hold yet: an s117_officer may not).
  std::string Migrator() { return stack.Token(kLeeds, "system"); }
  grpc::Status OpenAs(const std::string& token, const icr::v1::OpenEntitlementRequest& req,
                      icr::v1::Entitlement* out) {
    return s117()->OpenEntitlement(Ctx(token).get(), req, out);
  }
  // A person in the record (Leeds) with an ACTIVE entitlement that left hospital `left` days ago.
  icr::v1::Entitlement Active(int left) {
    const std::string nhs = NextNhsNumber();
    SeedPerson(kTrust, nhs);
    icr::v1::Entitlement e;
    auto s = OpenAs(Officer(), Open(nhs, left), &e);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return e;
  }
  grpc::Status Decide(const std::string& token, const icr::v1::Entitlement& e,
                      const std::string& body, int days_ago, bool finalise,
                      icr::v1::Entitlement* out) {
    icr::v1::RecordEndDecisionRequest req;
    req.set_entitlement_id(e.entitlement_id());
    req.set_expected_version(e.version());
    req.set_migrated(true);
    req.set_finalise(finalise);
    auto* d = req.mutable_decision();
    d->set_body(body);
    d->mutable_decider()->set_name("Panel of 2019");
    d->mutable_decider()->set_role("S117 panel");
    d->set_decision_date(Day(days_ago));
    d->set_primary_reason("NO_LONGER_NEEDS_AFTERCARE");
    d->set_reason_text("Ended by joint decision, as the old register records");
    d->set_person_involvement("CONSULTED");
    return s117()->RecordEndDecision(Ctx(token).get(), req, out);
  }
  // Sends the rows; the results in order.
  std::vector<icr::v1::ImportRowResult> Import(
      const std::string& token, const std::vector<icr::v1::RegisterImportRow>& rows) {
    auto ctx = Ctx(token);
    auto stream = s117()->ImportRegister(ctx.get());
    for (const auto& r : rows) EXPECT_TRUE(stream->Write(r));
    stream->WritesDone();
    std::vector<icr::v1::ImportRowResult> out;
    icr::v1::ImportRowResult result;
    while (stream->Read(&result)) out.push_back(result);
    auto s = stream->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  icr::v1::RegisterImportRow Row(int row, const std::string& nhs, const std::string& ref) {
    auto r = LeedsRow(nhs, ref);
    r.set_row(row);
    r.set_detention_start_date(Day(900));
    r.set_left_hospital_date(Day(800));
    r.set_registered_on(Day(795));
    r.set_last_review_date(Day(100));
    *r.add_services() = Line(790);
    return r;
  }
  std::string Count(const std::string& sql) { return stack.Scalar(sql); }
  std::string Episodes(const std::string& nhs) {
    return Count(
        "SELECT count(*) FROM s117.episode e JOIN core.person p USING (person_id) "
        "WHERE p.nhs_number = '" +
        nhs + "'");
  }
  Stack& stack = Stack::Get();
};

TEST_F(S117HistoryTest, ARegistrationIsBackDatedWithinItsBounds) {
  const std::string nhs = NextNhsNumber();
  SeedPerson(kTrust, nhs);
  auto req = Open(nhs, 300);  // detained 360 days ago, left 300 days ago
  req.set_registered_on(Day(290));
  req.set_effective_from(Day(295));
  // Bounds first: nothing is stored by a refused request.
  struct Case {
    std::string field, value, token;
  };
  const std::string worker = stack.Token(kLeeds, "social_worker");
  for (const auto& c : std::vector<Case>{{"registered_on", Day(-1), Officer()},
                                         {"registered_on", Day(400), Officer()},
                                         {"registered_on", Day(290), worker},
                                         {"effective_from", Day(301), Officer()}}) {
    auto bad = req;
    if (c.field == "registered_on") bad.set_registered_on(c.value);
    if (c.field == "effective_from") bad.set_effective_from(c.value);
    icr::v1::Entitlement e;
    auto s = OpenAs(c.token, bad, &e);
    EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT) << c.field << " " << c.value;
    EXPECT_EQ(s.error_message().rfind(c.field + ":", 0), 0u) << s.error_message();
  }
  EXPECT_EQ(Episodes(nhs), "0");
  icr::v1::Entitlement e;
  auto s = OpenAs(Officer(), req, &e);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(e.registered_on(), Day(290));
  EXPECT_EQ(e.effective_from(), Day(295));
  // The recording time stays the server's.
  EXPECT_EQ(Count("SELECT (created_at AT TIME ZONE 'Europe/London')::date::text FROM s117.episode "
                  "WHERE episode_id = '" +
                  e.entitlement_id() + "'"),
            Day(0));
}

TEST_F(S117HistoryTest, ASingleAgencyReviewIsRecordedAsSuch) {
  auto e = Active(200);
  icr::v1::RecordReviewRequest req;
  req.set_entitlement_id(e.entitlement_id());
  req.set_expected_version(e.version());
  auto* r = req.mutable_review();
  r->set_review_date(Day(20));
  r->mutable_council_rep()->set_name("Sam Patel");
  r->mutable_council_rep()->set_role("Social worker");
  r->set_health_attendance("INVITED_ABSENT");
  r->set_person_involvement("ATTENDED");
  r->set_outcome("CONTINUE");
  // NOT_RECORDED is for imported reviews only.
  auto live = req;
  live.mutable_review()->set_council_attendance("NOT_RECORDED");
  icr::v1::Entitlement out;
  EXPECT_EQ(s117()->RecordReview(Ctx(Officer()).get(), live, &out).error_code(),
            Code::INVALID_ARGUMENT);
  auto s = s117()->RecordReview(Ctx(Officer()).get(), req, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(out.reviews_size(), 1);
  EXPECT_EQ(out.reviews(0).council_attendance(), "ATTENDED");
  EXPECT_EQ(out.reviews(0).health_attendance(), "INVITED_ABSENT");
  EXPECT_FALSE(out.reviews(0).joint());
  EXPECT_EQ(out.last_review_date(), Day(20));
}

TEST_F(S117HistoryTest, AMigratedJointEndNeedsNoReviewAndEndsItsOpenLines) {
  auto e = Active(700);
  icr::v1::AddAftercareServiceRequest add;
  add.set_entitlement_id(e.entitlement_id());
  add.set_expected_version(e.version());
  *add.mutable_service() = Line(690);
  icr::v1::AddAftercareServiceResponse added;
  ASSERT_TRUE(s117()->AddAftercareService(Ctx(Officer()).get(), add, &added).ok());
  e = added.entitlement();
  // Only a system, an admin or a responsible body's s117_officer carries a decision over.
  icr::v1::Entitlement out;
  EXPECT_EQ(
      Decide(stack.Token(kLeeds, "social_worker"), e, "COUNCIL", 30, false, &out).error_code(),
      Code::PERMISSION_DENIED);
  ASSERT_TRUE(Decide(Officer(), e, "COUNCIL", 410, false, &out).ok());
  auto s = Decide(Officer(), out, "ICB", 400, true, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.state(), "ENDED_DISCHARGED");
  EXPECT_EQ(out.ended_on(), Day(400));  // the later decision
  EXPECT_TRUE(out.end_migrated());
  EXPECT_EQ(out.reviews_size(), 0);
  ASSERT_EQ(out.services_size(), 1);
  EXPECT_EQ(out.services(0).end_date(), Day(400));
  EXPECT_EQ(out.services(0).end_reason(), "entitlement ended");
  ASSERT_EQ(out.end_decisions_size(), 2);
  EXPECT_TRUE(out.end_decisions(0).migrated());
  EXPECT_NE(Count("SELECT reason FROM s117.episode_history WHERE episode_id = '" +
                  out.entitlement_id() + "' AND action = 's117_discharged'")
                .find("1 s117 service line(s) ended"),
            std::string::npos);
}

TEST_F(S117HistoryTest, TheRegisterIsImportedRowByRow) {
  const std::string known = NextNhsNumber(), fresh = NextNhsNumber(), bad = NextNhsNumber(),
                    ended = NextNhsNumber();
  SeedPerson(kTrust, known);
  auto stored = Row(1, known, "LDS-0001");
  stored.set_date_of_birth("");  // known to the record
  auto created = Row(2, fresh, "LDS-0002");
  auto refused = Row(3, bad, "LDS-0003");
  refused.mutable_services(0)->set_client_contribution_pence(1500);  // s117 is free
  auto closed = Row(4, ended, "LDS-0004");
  closed.set_end_date(Day(50));
  closed.set_end_reason("NO_LONGER_NEEDS_AFTERCARE");
  const std::vector<icr::v1::RegisterImportRow> rows = {stored, created, refused, closed};

  // A dry run stores nothing.
  auto dry = rows;
  for (auto& r : dry) r.set_dry_run(true);
  auto checked = Import(Migrator(), dry);
  ASSERT_EQ(checked.size(), 4u);
  EXPECT_EQ(checked[0].outcome(), Outcome::VALID) << checked[0].message();
  EXPECT_EQ(checked[1].outcome(), Outcome::VALID) << checked[1].message();
  EXPECT_EQ(checked[2].outcome(), Outcome::REFUSED);
  EXPECT_EQ(checked[3].outcome(), Outcome::VALID) << checked[3].message();
  EXPECT_EQ(Episodes(known), "0");
  EXPECT_EQ(Count("SELECT count(*) FROM core.person WHERE nhs_number = '" + fresh + "'"), "0");

  auto results = Import(Migrator(), rows);
  ASSERT_EQ(results.size(), 4u);
  for (int i : {0, 1, 3}) {
    EXPECT_EQ(results[i].outcome(), Outcome::STORED) << results[i].message();
    EXPECT_EQ(results[i].row(), i + 1);
  }
  EXPECT_EQ(results[2].outcome(), Outcome::REFUSED) << results[2].message();
  EXPECT_EQ(results[2].code(), static_cast<int>(Code::INVALID_ARGUMENT));
  EXPECT_EQ(results[2].field(), "services[0].client_contribution_pence");
  EXPECT_EQ(Count("SELECT count(*) FROM core.person WHERE nhs_number = '" + bad + "'"), "0");

  icr::v1::GetEntitlementRequest get;
  get.set_entitlement_id(results[0].id());
  icr::v1::Entitlement e;
  ASSERT_TRUE(s117()->GetEntitlement(Ctx(Officer()).get(), get, &e).ok());
  EXPECT_EQ(e.state(), "ACTIVE");
  EXPECT_EQ(e.source_ref(), "LDS-0001");
  EXPECT_EQ(e.registered_on(), Day(795));
  EXPECT_EQ(e.effective_from(), Day(800));
  ASSERT_EQ(e.reviews_size(), 1);
  EXPECT_EQ(e.reviews(0).council_attendance(), "NOT_RECORDED");
  EXPECT_FALSE(e.reviews(0).joint());
  EXPECT_EQ(e.services_size(), 1);
  get.set_entitlement_id(results[3].id());
  ASSERT_TRUE(s117()->GetEntitlement(Ctx(Officer()).get(), get, &e).ok());
  EXPECT_EQ(e.state(), "ENDED_DISCHARGED");
  EXPECT_TRUE(e.end_migrated());
  EXPECT_EQ(e.ended_on(), Day(50));
  EXPECT_EQ(Count("SELECT count(*) FROM core.audit WHERE action = 'ImportRegister' AND "
                  "person_id IN (SELECT person_id FROM core.person WHERE nhs_number IN ('" +
                  known + "', '" + fresh + "', '" + ended + "'))"),
            "3");

  // Rerunning the same rows changes nothing; the same reference with other content is refused.
  const std::string before = Count("SELECT count(*) || '/' || sum(version) FROM s117.episode");
  auto again = Import(Migrator(), {stored, created});
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].outcome(), Outcome::DUPLICATE);
  EXPECT_EQ(again[0].id(), results[0].id());
  EXPECT_EQ(again[1].outcome(), Outcome::DUPLICATE);
  auto changed = created;
  changed.set_registered_on(Day(790));
  auto conflict = Import(Migrator(), {changed});
  EXPECT_EQ(conflict[0].outcome(), Outcome::REFUSED);
  EXPECT_EQ(conflict[0].code(), static_cast<int>(Code::FAILED_PRECONDITION));
  EXPECT_EQ(conflict[0].field(), "source_ref");
  EXPECT_EQ(Count("SELECT count(*) || '/' || sum(version) FROM s117.episode"), before);

  // Another council's officer imports only their own register; a date of birth that differs
  // from the record's is refused.
  auto other = Import(Officer(kCamden), {Row(5, NextNhsNumber(), "X-1")});
  EXPECT_EQ(other[0].code(), static_cast<int>(Code::PERMISSION_DENIED));
  EXPECT_EQ(other[0].field(), "council.code");
  auto born = Row(6, known, "LDS-0006");
  born.set_date_of_birth("1950-01-01");
  auto mismatch = Import(Migrator(), {born});
  EXPECT_EQ(mismatch[0].code(), static_cast<int>(Code::FAILED_PRECONDITION));
  EXPECT_EQ(mismatch[0].field(), "date_of_birth");

  // An s117_officer may not create a person: a row for someone the record does not hold is
  // refused exactly as one for a person the officer's council cannot see, and audited.
  const std::string absent = NextNhsNumber(), unseen = NextNhsNumber();
  SeedPerson(kTrust, unseen);
  auto unseen_row = Row(9, unseen, "LDS-0009");
  unseen_row.mutable_council()->set_code(kCamden);
  auto absent_row = Row(10, absent, "LDS-0010");
  absent_row.mutable_council()->set_code(kCamden);
  auto by_officer = Import(Officer(kCamden), {absent_row, unseen_row});
  ASSERT_EQ(by_officer.size(), 2u);
  EXPECT_EQ(by_officer[0].outcome(), Outcome::REFUSED);
  EXPECT_EQ(by_officer[0].code(), static_cast<int>(Code::NOT_FOUND)) << by_officer[0].message();
  EXPECT_EQ(by_officer[0].field(), "nhs_number");
  EXPECT_EQ(by_officer[1].code(), by_officer[0].code()) << by_officer[1].message();
  EXPECT_EQ(by_officer[1].message(), by_officer[0].message());
  EXPECT_EQ(Count("SELECT count(*) FROM core.person WHERE nhs_number = '" + absent + "'"), "0");
  // The system that created a person has its 'registered' relationship with them.
  EXPECT_EQ(Count("SELECT count(*) FROM core.relationship r JOIN core.person p USING "
                  "(person_id) WHERE r.kind = 'registered' AND r.org_code = '" +
                  std::string(kLeeds) + "' AND p.nhs_number = '" + fresh + "'"),
            "1");

  // A row naming an ICB that does not exist is refused naming it, and no person is created.
  const std::string nobody = NextNhsNumber();
  auto unknown_icb = Row(7, nobody, "LDS-0007");
  unknown_icb.mutable_icb()->set_code("QZZ");
  auto unknown = Import(Migrator(), {unknown_icb});
  EXPECT_EQ(unknown[0].code(), static_cast<int>(Code::INVALID_ARGUMENT)) << unknown[0].message();
  EXPECT_EQ(unknown[0].field(), "icb.code");
  EXPECT_EQ(Count("SELECT count(*) FROM core.person WHERE nhs_number = '" + nobody + "'"), "0");
  // A migrated end with a reason that may not stand alone names the row's end_reason.
  auto alone = Row(8, NextNhsNumber(), "LDS-0008");
  alone.set_end_date(Day(50));
  alone.set_end_reason("TIME_ELAPSED");
  auto refused_end = Import(Migrator(), {alone});
  EXPECT_EQ(refused_end[0].outcome(), Outcome::REFUSED);
  EXPECT_EQ(refused_end[0].field(), "end_reason") << refused_end[0].message();
}

TEST_F(S117HistoryTest, AnImportedServiceLineThatEndedIsAddedThenEnded) {
  const std::string nhs = NextNhsNumber();
  auto row = Row(1, nhs, "LDS-0101");
  auto* ended = row.add_services();
  *ended = Line(700);
  ended->set_end_date(Day(600));
  ended->set_end_reason("Moved to a care home");
  // An end before its start names the line's end date, and nothing is stored.
  auto early = row;
  early.mutable_services(1)->set_end_date(Day(750));
  auto refused = Import(Migrator(), {early});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].outcome(), Outcome::REFUSED) << refused[0].message();
  EXPECT_EQ(refused[0].field(), "services[1].end_date");
  EXPECT_EQ(Count("SELECT count(*) FROM core.person WHERE nhs_number = '" + nhs + "'"), "0");

  auto results = Import(Migrator(), {row});
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].outcome(), Outcome::STORED) << results[0].message();
  icr::v1::GetEntitlementRequest get;
  get.set_entitlement_id(results[0].id());
  icr::v1::Entitlement e;
  ASSERT_TRUE(s117()->GetEntitlement(Ctx(Officer()).get(), get, &e).ok());
  ASSERT_EQ(e.services_size(), 2);
  int open = 0;
  for (const auto& l : e.services()) {
    if (l.end_date().empty()) {
      ++open;
    } else {
      EXPECT_EQ(l.end_date(), Day(600));
      EXPECT_EQ(l.end_reason(), "Moved to a care home");
    }
  }
  EXPECT_EQ(open, 1);
  EXPECT_EQ(Import(Migrator(), {row})[0].outcome(), Outcome::DUPLICATE);
}

// The two indicators whose meaning changed, over a database of their own, month 2026-10.
class S117IndicatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = Stack::NewDatabase("s117hist");
    db_ = std::make_unique<Database>(url_, 4);
    HostOptions options;
    options.services = {"record", "s117", "performance"};
    options.national_store = true;  // England-level totals, unrounded
    auto host = Host::Start(*db_, options);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->port()),
                                   grpc::InsecureChannelCredentials());
  }
  std::string Token(const std::string& org, Role role) {
    auto t = Authenticator::CreateToken(*db_, org, role, "s117 history test");
    EXPECT_TRUE(t.ok());
    return *t;
  }
  // Imports one entitlement of Leeds's register; its id.
  std::string Import(const std::string& nhs, const std::string& detained, const std::string& left,
                     const std::string& registered, const std::string& last_review = "") {
    auto r = LeedsRow(nhs, "LDS-" + nhs);
    r.set_detention_start_date(detained);
    r.set_left_hospital_date(left);
    r.set_registered_on(registered);
    r.set_last_review_date(last_review);
    auto ctx = Ctx(Token(kLeeds, Role::kSystem));
    auto stream = icr::v1::S117RegisterService::NewStub(channel_)->ImportRegister(ctx.get());
    EXPECT_TRUE(stream->Write(r));
    stream->WritesDone();
    icr::v1::ImportRowResult result;
    EXPECT_TRUE(stream->Read(&result));
    EXPECT_TRUE(stream->Finish().ok());
    EXPECT_EQ(result.outcome(), Outcome::STORED) << result.message();
    return result.id();
  }
  // The record's qualifying detention and stay (straight into core: no change feed).
  void DetainedAndDischarged(const std::string& nhs, const std::string& from,
                             const std::string& to) {
    pqxx::connection c(url_);
    pqxx::work tx(c);
    const std::string person =
        tx.exec("SELECT person_id FROM core.person WHERE nhs_number = '" + nhs + "'")[0][0].c_str();
    tx.exec(
        "INSERT INTO core.hospital_spell (person_id, source_org, spell_id, provider_code, "
        "admitted_at, bed_type, discharged_at) VALUES ('" +
        person + "', 'RGD', 'S-" + nhs + "', 'RGD', '" + from + " 12:00Z', '10', '" + to +
        " 12:00Z')");
    tx.exec(
        "INSERT INTO core.detention (person_id, source_org, detention_id, legal_status_code, "
        "started_at, provider_code, ended_at) VALUES ('" +
        person + "', 'RGD', 'D-" + nhs + "', '03', '" + from + " 12:00Z', 'RGD', '" + to +
        " 12:00Z')");
    tx.commit();
  }
  void Review(const std::string& id, bool joint) {
    auto stub = icr::v1::S117RegisterService::NewStub(channel_);
    const std::string token = Token(kLeeds, Role::kS117Officer);
    icr::v1::GetEntitlementRequest get;
    get.set_entitlement_id(id);
    icr::v1::Entitlement e;
    ASSERT_TRUE(stub->GetEntitlement(Ctx(token).get(), get, &e).ok());
    icr::v1::RecordReviewRequest req;
    req.set_entitlement_id(id);
    req.set_expected_version(e.version());
    auto* r = req.mutable_review();
    r->set_review_date("2026-09-15");
    r->mutable_council_rep()->set_name("Sam Patel");
    r->mutable_council_rep()->set_role("Social worker");
    // Health's representative is named either way; in a single-agency review they were
    // invited and did not come.
    r->mutable_health_rep()->set_name("Dr Jo Wu");
    r->mutable_health_rep()->set_role("Consultant psychiatrist");
    if (!joint) r->set_health_attendance("INVITED_ABSENT");
    r->set_person_involvement("ATTENDED");
    r->set_outcome("CONTINUE");
    auto s = stub->RecordReview(Ctx(token).get(), req, &e);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  icr::v1::Figure Total(const std::string& id) {
    auto perf = icr::v1::PerformanceService::NewStub(channel_);
    icr::v1::ComputeIndicatorsRequest compute;
    compute.set_from_month("2026-10");
    icr::v1::ComputeIndicatorsResponse computed;
    EXPECT_TRUE(perf->ComputeIndicators(Ctx(Token(kLeedsIcb, Role::kPerformanceAnalyst)).get(),
                                        compute, &computed)
                    .ok());
    icr::v1::GetDashboardRequest req;
    req.set_month("2026-10");
    req.mutable_scope()->set_type("all");
    req.set_breakdown("none");
    icr::v1::Dashboard board;
    EXPECT_TRUE(perf->GetDashboard(Ctx(Token(kTrust, Role::kSystem)).get(), req, &board).ok());
    for (const auto& f : board.figures()) {
      if (f.indicator_id() == id && f.breakdown_value().empty()) return f;
    }
    ADD_FAILURE() << "no figure for " << id;
    return {};
  }

  std::string url_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Host> host_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(S117IndicatorTest, RegisteredWithin28DaysCountsTheRealRegistrationDate) {
  // Both left hospital on 10 October 2026 after an s3 detention and were loaded today. A's
  // register says it was registered on 20 October (10 days): counted. B's on 10 November
  // (31 days): not. Numerator 1, denominator 2.
  const std::string a = NextNhsNumber(), b = NextNhsNumber();
  Import(a, "2026-09-01", "2026-10-10", "2026-10-20");
  Import(b, "2026-09-01", "2026-10-10", "2026-11-10");
  DetainedAndDischarged(a, "2026-09-01", "2026-10-10");
  DetainedAndDischarged(b, "2026-09-01", "2026-10-10");
  const auto f = Total("S117_REGISTERED_28D");
  EXPECT_EQ(f.numerator(), "1");
  EXPECT_EQ(f.denominator(), "2");
}

TEST_F(S117IndicatorTest, ReviewedIn12MonthsCountsOnlyJointReviews) {
  // Three entitlements in force since June 2025 (over 12 months by 31 October 2026), each
  // reviewed on 15 September 2026: C jointly (both bodies attended), D by the council alone
  // (health invited, absent, though its representative is named), E by import (attendance not
  // recorded). Only C counts: numerator 1, denominator 3.
  const std::string c = NextNhsNumber(), d = NextNhsNumber(), e = NextNhsNumber();
  Review(Import(c, "2025-04-01", "2025-06-01", "2025-06-05"), true);
  Review(Import(d, "2025-04-01", "2025-06-01", "2025-06-05"), false);
  Import(e, "2025-04-01", "2025-06-01", "2025-06-05", "2026-09-15");
  const auto f = Total("S117_REVIEWED_12M");
  EXPECT_EQ(f.numerator(), "1");
  EXPECT_EQ(f.denominator(), "3");
}

}  // namespace
}  // namespace icr::test
