// S117RegisterService through a real gRPC channel against real PostgreSQL: entitlements opened,
// started, superseded and ended by the record's change feed with no re-keying; the bad input of
// domain-rules 2.12 refused with nothing changed; the joint end decision; visibility, audit,
// history and change-feed rows; the register listed, filtered, paged and exported; and the
// S117 summary in the integrated record.
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <thread>
#include <tuple>
#include <type_traits>

#include "icr/v1/performance.grpc.pb.h"
#include "icr/v1/s117.grpc.pb.h"
#include "services/common/reference_loader.h"
#include "services/common/validation.h"
#include "services/s117/feed_follower.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {
using google::protobuf::util::TimeUtil;
using Code = grpc::StatusCode;

constexpr char kTrust[] = "RGD";            // Leeds and York Partnership NHS FT
constexpr char kOtherTrust[] = "RX4";
constexpr char kLeeds[] = "E08000035";      // where MakePerson lives
constexpr char kCamden[] = "E09000007";
constexpr char kNewcastle[] = "E08000021";  // unrelated
constexpr char kBristol[] = "E06000023";
constexpr char kLeedsIcb[] = "QWO";
constexpr char kOtherIcb[] = "QHM";

// A day in the past, at noon UTC (the same calendar day in London).
Date DaysAgo(int n) { return Today() - std::chrono::days{n}; }
std::string Day(int days_ago) { return FormatDate(DaysAgo(days_ago)); }
google::protobuf::Timestamp At(int days_ago) {
  const auto s = std::chrono::sys_seconds{DaysAgo(days_ago)}.time_since_epoch().count() + 43200;
  return TimeUtil::SecondsToTimestamp(s);
}

void CatchUp() { CatchUpS117Feed(); }

// Record events as the trust (tests/support/builders.h), with ids unique to the person.
class Events {
 public:
  explicit Events(std::string nhs) : nhs_(std::move(nhs)) {}
  icr::v1::Event Admit(const std::string& spell, int days_ago) {
    return build::Admission(nhs_, Id("adm-" + spell), Id(spell), kTrust, At(days_ago).seconds());
  }
  icr::v1::Event Discharge(const std::string& spell, int days_ago) {
    return build::Discharge(nhs_, Id("dis-" + spell), Id(spell), At(days_ago).seconds());
  }
  icr::v1::Event Detain(const std::string& detention, const std::string& code, int days_ago) {
    return build::DetentionStart(nhs_, Id("det-" + detention), Id(detention), code, kTrust,
                                 At(days_ago).seconds());
  }
  icr::v1::Event EndDetention(const std::string& detention, int days_ago) {
    return build::DetentionEnd(nhs_, Id("end-" + detention), Id(detention), At(days_ago).seconds(),
                               "discharged by RC");
  }
  icr::v1::Event OpenReferral(const std::string& referral, int days_ago) {
    return build::ReferralOpened(nhs_, Id("ref-" + referral), Id(referral), kTrust, Day(days_ago));
  }
  icr::v1::Event CloseReferral(const std::string& referral, int days_ago) {
    return build::ReferralClosed(nhs_, Id("close-" + referral), Id(referral), Day(days_ago),
                                 "discharged from CMHT");
  }
  icr::v1::Event Die(int days_ago) { return build::Death(nhs_, Id("death"), Day(days_ago)); }

 private:
  std::string Id(const std::string& s) const { return s + "-" + nhs_; }
  std::string nhs_;
};

class S117Test : public ::testing::Test {
 protected:
  std::unique_ptr<icr::v1::S117RegisterService::Stub> s117() {
    return icr::v1::S117RegisterService::NewStub(stack.channel());
  }
  std::string Token(const std::string& org, const std::string& role = "s117_officer") {
    return stack.Token(org, role);
  }
  // AddAftercareService, keeping the entitlement after the write (and the new line's id).
  grpc::Status AddLine(grpc::ClientContext* ctx, const icr::v1::AddAftercareServiceRequest& req,
                       icr::v1::Entitlement* out, std::string* line_id = nullptr) {
    icr::v1::AddAftercareServiceResponse resp;
    auto s = s117()->AddAftercareService(ctx, req, &resp);
    if (s.ok()) {
      *out = resp.entitlement();
      if (line_id) *line_id = resp.service_line_id();
    }
    return s;
  }
  void Record(const std::vector<icr::v1::Event>& events) {
    auto s = Send(trust, events);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  grpc::Status Get(const std::string& token, const std::string& nhs, icr::v1::Entitlement* out,
                   const std::map<std::string, std::string>& md = {}) {
    icr::v1::GetEntitlementRequest req;
    req.set_nhs_number(nhs);
    return s117()->GetEntitlement(Ctx(token, md).get(), req, out);
  }
  grpc::Status GetById(const std::string& token, const std::string& id, icr::v1::Entitlement* out,
                       bool history = false) {
    icr::v1::GetEntitlementRequest req;
    req.set_entitlement_id(id);
    req.set_include_history(history);
    return s117()->GetEntitlement(Ctx(token).get(), req, out);
  }
  icr::v1::Entitlement MustGet(const std::string& nhs, const std::string& org = kLeeds) {
    icr::v1::Entitlement e;
    auto s = Get(Token(org), nhs, &e);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return e;
  }
  // A person whose s3 detention 300 days ago ended with discharge 250 days ago: ACTIVE.
  icr::v1::Entitlement ActiveThroughTheFeed(const std::string& nhs) {
    SeedPerson(kTrust, nhs);
    Events ev(nhs);
    Record({ev.Admit("S1", 300), ev.Detain("D1", "03", 300)});
    Record({ev.EndDetention("D1", 250), ev.Discharge("S1", 250)});
    CatchUp();
    return MustGet(nhs);
  }
  std::string Count(const std::string& sql) { return stack.Scalar(sql); }
  std::string EpisodeCount(const std::string& person_id, const std::string& table) {
    return Count("SELECT count(*) FROM " + table + " WHERE episode_id IN (SELECT episode_id FROM "
                 "s117.episode WHERE person_id = '" + person_id + "')");
  }
  // Everything a rejected request must leave unchanged for this person.
  std::string Snapshot(const std::string& person_id) {
    std::string out = Count(
        "SELECT count(*) || '/' || coalesce(sum(version), 0) FROM s117.episode WHERE person_id = '" +
        person_id + "'");
    for (const char* t : {"s117.service_line", "s117.review", "s117.end_decision", "s117.task",
                          "s117.episode_history"}) {
      out += " " + std::string(t) + "=" + EpisodeCount(person_id, t);
    }
    out += " changes=" + Count("SELECT count(*) FROM core.changes WHERE person_id = '" +
                               person_id + "' AND entity = 's117_episode'");
    out += " audit=" + Count("SELECT count(*) FROM core.audit WHERE person_id = '" + person_id + "'");
    return out;
  }

  Stack& stack = Stack::Get();
  std::string trust = stack.Token(kTrust, "system");
};

icr::v1::OpenEntitlementRequest OpenActive(const std::string& nhs, const std::string& council,
                                           const std::string& icb, int left_days_ago) {
  icr::v1::OpenEntitlementRequest r;
  r.set_nhs_number(nhs);
  r.set_legal_status_code("03");
  r.set_detention_start_date(Day(left_days_ago + 60));
  r.set_detaining_provider_code(kTrust);
  r.set_state("ACTIVE");
  r.set_ceased_detained_date(Day(left_days_ago));
  r.set_left_hospital_date(Day(left_days_ago));
  r.mutable_council()->set_code(council);
  r.mutable_council()->set_basis("OR_ENGLAND_S117_3A");
  r.mutable_council()->set_evidence("tenancy in the borough before admission");
  r.mutable_icb()->set_code(icb);
  r.mutable_icb()->set_basis("CORE_GP_REGISTRATION");
  r.set_reason("carried over from the council's spreadsheet register");
  return r;
}

icr::v1::AftercareService HomeCare(int start_days_ago) {
  icr::v1::AftercareService l;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(service_type: "HOME_CARE" description: "Daily visits, Leeds Home Support"
           provider_name: "Leeds Home Support" need_ref: "need-1"
           need_arises_from_mental_disorder: true is_s117: true funder: "JOINT"
           council_pct: 50 icb_pct: 50 weekly_cost_pence: 42000 delivery_mode: "COMMISSIONED")pb",
      &l));
  l.set_start_date(Day(start_days_ago));
  return l;
}

icr::v1::S117EndDecision Decision(const std::string& body, int days_ago,
                                  const std::string& reason = "NO_LONGER_NEEDS_AFTERCARE") {
  icr::v1::S117EndDecision d;
  d.set_body(body);
  d.mutable_decider()->set_name(body == "ICB" ? "Dr Ama Osei" : "Pat Lee");
  d.mutable_decider()->set_role(body == "ICB" ? "Mental health commissioner" : "Head of S117");
  d.set_decision_date(Day(days_ago));
  d.set_primary_reason(reason);
  d.set_reason_text("Settled for a year with no after-care needed; plan for GP follow-up");
  d.set_person_involvement("ATTENDED");
  return d;
}

icr::v1::S117Review Review(int days_ago, const std::string& outcome) {
  icr::v1::S117Review r;
  r.set_review_date(Day(days_ago));
  r.mutable_council_rep()->set_name("Sam Patel");
  r.mutable_council_rep()->set_role("Social worker");
  r.mutable_health_rep()->set_name("Dr Jo Wu");
  r.mutable_health_rep()->set_role("Consultant psychiatrist");
  r.mutable_health_rep()->set_organisation_code(kTrust);
  r.set_person_involvement("ATTENDED");
  r.set_outcome(outcome);
  r.set_summary("Joint review with the person and their sister");
  return r;
}

TEST_F(S117Test, AQualifyingDetentionOpensAPlannedEntitlementThatStartsOnLeavingHospital) {
  const std::string nhs = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  Events ev(nhs);
  Record({ev.Admit("S1", 300), ev.Detain("D1", "03", 300)});
  CatchUp();
  auto planned = MustGet(nhs);
  EXPECT_EQ(planned.state(), "PLANNED");
  EXPECT_EQ(planned.person_id(), person.person_id());
  EXPECT_EQ(planned.qualifying_section(), "S3");
  EXPECT_EQ(planned.detention_start_date(), Day(300));
  EXPECT_EQ(planned.council().code(), kLeeds);
  EXPECT_EQ(planned.council().basis(), "OR_ENGLAND_S117_3A");
  EXPECT_TRUE(planned.council().provisional());
  EXPECT_EQ(planned.icb().code(), kLeedsIcb);
  EXPECT_EQ(planned.icb().basis(), "CORE_USUAL_RESIDENCE");
  EXPECT_TRUE(planned.in_hospital());
  ASSERT_EQ(planned.detentions_size(), 1);
  EXPECT_EQ(planned.detentions(0).role(), "QUALIFYING");

  // The section ends but they stay on informally: still PLANNED, not yet in force.
  Record({ev.EndDetention("D1", 260)});
  CatchUp();
  auto informal = MustGet(nhs);
  EXPECT_EQ(informal.state(), "PLANNED");
  EXPECT_EQ(informal.ceased_detained_date(), Day(260));
  // They leave hospital: the duty is in force from that day.
  Record({ev.Discharge("S1", 250)});
  CatchUp();
  auto active = MustGet(nhs);
  EXPECT_EQ(active.state(), "ACTIVE");
  EXPECT_EQ(active.left_hospital_date(), Day(250));
  EXPECT_EQ(active.effective_from(), Day(250));
  EXPECT_EQ(active.next_review_due(), FormatDate(s117::AddMonths(DaysAgo(250), 12)));
  EXPECT_FALSE(active.in_hospital());
  EXPECT_EQ(active.version(), 3);
  // Each change is in the history, on the change feed and audited as the feed's work.
  EXPECT_EQ(EpisodeCount(person.person_id(), "s117.episode_history"), "3");
  EXPECT_EQ(Count("SELECT string_agg(change_type, ',' ORDER BY seq) FROM core.changes WHERE "
                  "entity = 's117_episode' AND person_id = '" + person.person_id() + "'"),
            "s117_opened,s117_detention_ceased,s117_activated");
  EXPECT_EQ(Count("SELECT count(*) FROM core.audit WHERE action = 'S117Feed' AND person_id = '" +
                  person.person_id() + "' AND purpose_of_use = 's117_register_feed'"),
            "3");
}

TEST_F(S117Test, ASection2DetentionOpensNothing) {
  const std::string nhs = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  Events ev(nhs);
  Record({ev.Admit("S1", 40), ev.Detain("D1", "02", 40)});
  CatchUp();
  EXPECT_EQ(Count("SELECT count(*) FROM s117.episode WHERE person_id = '" + person.person_id() + "'"),
            "0");
  icr::v1::Entitlement e;
  EXPECT_EQ(Get(Token(kLeeds), nhs, &e).error_code(), Code::NOT_FOUND);
}

TEST_F(S117Test, ReDetentionSupersedesWithTheCouncilRedeterminedAndTheIcbCarriedOver) {
  const std::string nhs = NextNhsNumber();
  const auto first = ActiveThroughTheFeed(nhs);
  ASSERT_EQ(first.state(), "ACTIVE");
  // They moved to Camden (and its ICB) 200 days ago and are detained there under s3 again: the
  // council is the one of their residence immediately before the new detention.
  icr::v1::UpsertPersonRequest moved;
  *moved.mutable_person() = MakePerson(nhs);
  moved.mutable_person()->set_council_code(kCamden);
  moved.mutable_person()->set_icb_code("QMJ");
  moved.set_residence_from(Day(200));
  icr::v1::Person p;
  // The move is recorded by their council of residence (the trust's stay has ended).
  auto s = stack.record()->UpsertPerson(Ctx(Token(kLeeds, "social_worker")).get(), moved, &p);
  ASSERT_TRUE(s.ok()) << s.error_message();
  Events ev(nhs);
  Record({ev.Admit("S2", 100), ev.Detain("D2", "03", 100)});
  CatchUp();

  icr::v1::Entitlement old, next;
  ASSERT_TRUE(GetById(Token(kLeeds), first.entitlement_id(), &old).ok());
  EXPECT_EQ(old.state(), "ENDED_SUPERSEDED");
  EXPECT_EQ(old.ended_on(), Day(100));
  ASSERT_FALSE(old.successor_episode_id().empty());
  ASSERT_TRUE(GetById(Token(kCamden), old.successor_episode_id(), &next).ok());
  EXPECT_EQ(next.state(), "PLANNED");
  EXPECT_EQ(next.predecessor_episode_id(), first.entitlement_id());
  EXPECT_EQ(next.council().code(), kCamden);
  EXPECT_EQ(next.icb().code(), kLeedsIcb);
  EXPECT_EQ(next.icb().basis(), "CARRIED_FROM_ORIGINATING_ICB");
  // Leeds is responsible for the old entitlement only; the ICB for both.
  icr::v1::Entitlement e;
  EXPECT_EQ(GetById(Token(kLeeds), next.entitlement_id(), &e).error_code(), Code::NOT_FOUND);
  EXPECT_TRUE(GetById(Token(kLeedsIcb), next.entitlement_id(), &e).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM s117.episode WHERE person_id = '" + p.person_id() +
                  "' AND state IN ('PLANNED', 'ACTIVE')"),
            "1");
}

TEST_F(S117Test, ANonQualifyingDetentionWhileActiveOnlyMarksThemInHospital) {
  const std::string nhs = NextNhsNumber();
  const auto active = ActiveThroughTheFeed(nhs);
  Events ev(nhs);
  Record({ev.Admit("S2", 30), ev.Detain("D2", "02", 30)});
  CatchUp();
  auto in = MustGet(nhs);
  EXPECT_EQ(in.entitlement_id(), active.entitlement_id());
  EXPECT_EQ(in.state(), "ACTIVE");
  EXPECT_TRUE(in.in_hospital());
  EXPECT_EQ(in.council().code(), active.council().code());
  Record({ev.EndDetention("D2", 20), ev.Discharge("S2", 20)});
  CatchUp();
  auto out = MustGet(nhs);
  EXPECT_FALSE(out.in_hospital());
  EXPECT_EQ(out.version(), in.version() + 1);
}

TEST_F(S117Test, AClosedReferralRaisesAReviewTaskAndNeverEndsTheEntitlement) {
  const std::string nhs = NextNhsNumber();
  const auto active = ActiveThroughTheFeed(nhs);
  Events ev(nhs);
  Record({ev.OpenReferral("R1", 200), ev.CloseReferral("R1", 10)});
  CatchUp();
  auto after = MustGet(nhs);
  EXPECT_EQ(after.state(), "ACTIVE");  // 2.12: never closed because a CMHT referral closed
  ASSERT_EQ(after.tasks_size(), 1);
  EXPECT_EQ(after.tasks(0).kind(), "REVIEW_REFERRAL_CLOSED");
  EXPECT_EQ(after.tasks(0).status(), "OPEN");
  // A review closes the task.
  icr::v1::RecordReviewRequest review;
  review.set_entitlement_id(after.entitlement_id());
  review.set_expected_version(after.version());
  *review.mutable_review() = Review(5, "CONTINUE");
  icr::v1::Entitlement reviewed;
  ASSERT_TRUE(s117()->RecordReview(Ctx(Token(kLeeds)).get(), review, &reviewed).ok());
  EXPECT_EQ(reviewed.tasks(0).status(), "CLOSED");
  EXPECT_EQ(reviewed.last_review_date(), Day(5));
  EXPECT_EQ(reviewed.next_review_due(), FormatDate(s117::AddMonths(DaysAgo(5), 12)));
  ASSERT_EQ(reviewed.reviews_size(), 1);
  EXPECT_EQ(reviewed.reviews(0).health_rep().name(), "Dr Jo Wu");
}

TEST_F(S117Test, DeathEndsTheEntitlementAndItsServices) {
  const std::string nhs = NextNhsNumber();
  const auto active = ActiveThroughTheFeed(nhs);
  icr::v1::AddAftercareServiceRequest add;
  add.set_entitlement_id(active.entitlement_id());
  add.set_expected_version(active.version());
  *add.mutable_service() = HomeCare(200);
  icr::v1::Entitlement with_line;
  ASSERT_TRUE(AddLine(Ctx(Token(kLeeds)).get(), add, &with_line).ok());
  Events ev(nhs);
  // The trust's stay has ended: the council, a responsible body, records the death.
  auto died = Send(Token(kLeeds, "social_worker"), {ev.Die(3)});
  ASSERT_TRUE(died.ok()) << died.error_message();
  CatchUp();
  auto ended = MustGet(nhs);
  EXPECT_EQ(ended.state(), "ENDED_DECEASED");
  EXPECT_EQ(ended.ended_on(), Day(3));
  ASSERT_EQ(ended.services_size(), 1);
  EXPECT_EQ(ended.services(0).end_date(), Day(3));
  EXPECT_TRUE(ended.next_review_due().empty());
}

TEST_F(S117Test, CtoRevocationAndConditionalDischargeRecallNeedALegalDetermination) {
  const std::string nhs = NextNhsNumber();
  const auto active = ActiveThroughTheFeed(nhs);
  icr::v1::RecordLegalEventRequest cto;
  cto.set_entitlement_id(active.entitlement_id());
  cto.set_expected_version(active.version());
  cto.set_kind("CTO_STARTED");
  cto.set_date(Day(250));
  icr::v1::Entitlement on_cto;  // recorded by the trust's clinician
  ASSERT_TRUE(
      s117()->RecordLegalEvent(Ctx(stack.Token(kTrust, "clinician")).get(), cto, &on_cto).ok());
  EXPECT_TRUE(on_cto.on_cto());

  // The CTO is revoked: detained again under s3 (through the record, as usual).
  Events ev(nhs);
  Record({ev.Admit("S2", 60), ev.Detain("D2", "03", 60)});
  CatchUp();
  auto flagged = MustGet(nhs);
  EXPECT_EQ(flagged.entitlement_id(), active.entitlement_id());
  EXPECT_EQ(flagged.state(), "ACTIVE");  // no automatic transition
  EXPECT_TRUE(flagged.legal_determination_required());
  EXPECT_FALSE(flagged.on_cto());
  EXPECT_TRUE(flagged.successor_episode_id().empty());
  ASSERT_EQ(flagged.tasks_size(), 1);
  EXPECT_EQ(flagged.tasks(0).kind(), "LEGAL_DETERMINATION_REQUIRED");

  // A social worker may not decide it; the council's S117 lead decides a new duty arose.
  icr::v1::RecordLegalEventRequest decide;
  decide.set_entitlement_id(flagged.entitlement_id());
  decide.set_expected_version(flagged.version());
  decide.set_kind("LEGAL_DETERMINATION_NEW_DUTY");
  decide.set_date(Day(50));
  decide.mutable_decided_by()->set_name("Legal services");
  decide.mutable_decided_by()->set_role("Solicitor");
  decide.set_rationale("Revocation is a fresh detention for s117 purposes (legal advice)");
  icr::v1::Entitlement decided;
  EXPECT_EQ(s117()->RecordLegalEvent(Ctx(Token(kLeeds, "social_worker")).get(), decide, &decided)
                .error_code(),
            Code::PERMISSION_DENIED);
  ASSERT_TRUE(s117()->RecordLegalEvent(Ctx(Token(kLeeds)).get(), decide, &decided).ok());
  EXPECT_EQ(decided.state(), "ENDED_SUPERSEDED");
  EXPECT_FALSE(decided.legal_determination_required());
  EXPECT_EQ(decided.tasks(0).status(), "CLOSED");
  ASSERT_FALSE(decided.successor_episode_id().empty());
  auto next = MustGet(nhs);
  EXPECT_EQ(next.entitlement_id(), decided.successor_episode_id());
  EXPECT_EQ(next.state(), "PLANNED");

  // A restricted patient (s37/41), conditionally discharged, then recalled.
  const std::string nhs2 = NextNhsNumber();
  SeedPerson(kTrust, nhs2);
  Events ev2(nhs2);
  Record({ev2.Admit("S1", 400), ev2.Detain("D1", "09", 400)});
  Record({ev2.EndDetention("D1", 300), ev2.Discharge("S1", 300)});
  CatchUp();
  auto restricted = MustGet(nhs2);
  ASSERT_EQ(restricted.state(), "ACTIVE");
  icr::v1::RecordLegalEventRequest cd;
  cd.set_entitlement_id(restricted.entitlement_id());
  cd.set_expected_version(restricted.version());
  cd.set_kind("CONDITIONALLY_DISCHARGED");
  cd.set_date(Day(300));
  ASSERT_TRUE(s117()->RecordLegalEvent(Ctx(Token(kLeeds)).get(), cd, &restricted).ok());
  EXPECT_TRUE(restricted.conditionally_discharged());
  Record({ev2.Admit("S2", 20), ev2.Detain("D2", "09", 20)});
  CatchUp();
  auto recalled = MustGet(nhs2);
  EXPECT_EQ(recalled.state(), "ACTIVE");
  EXPECT_TRUE(recalled.legal_determination_required());
  // Continue: the original duty goes on.
  icr::v1::RecordLegalEventRequest carry_on = decide;
  carry_on.set_entitlement_id(recalled.entitlement_id());
  carry_on.set_expected_version(recalled.version());
  carry_on.set_kind("LEGAL_DETERMINATION_CONTINUE");
  carry_on.set_date(Day(10));
  icr::v1::Entitlement continued;
  ASSERT_TRUE(s117()->RecordLegalEvent(Ctx(Token(kLeedsIcb)).get(), carry_on, &continued).ok());
  EXPECT_EQ(continued.state(), "ACTIVE");
  EXPECT_FALSE(continued.legal_determination_required());
}

TEST_F(S117Test, TheEntitlementEndsOnlyOnBothDecisionsAndEveryGuardOfT6) {
  const std::string nhs = NextNhsNumber();
  auto e = ActiveThroughTheFeed(nhs);
  const std::string council = Token(kLeeds), icb = Token(kLeedsIcb);
  icr::v1::AddAftercareServiceRequest add;
  add.set_entitlement_id(e.entitlement_id());
  add.set_expected_version(e.version());
  *add.mutable_service() = HomeCare(240);
  ASSERT_TRUE(AddLine(Ctx(council).get(), add, &e).ok());
  const std::string line_id = e.services(0).service_line_id();

  auto decide = [&](const std::string& token, icr::v1::S117EndDecision d, bool finalise,
                    icr::v1::Entitlement* out) {
    icr::v1::RecordEndDecisionRequest req;
    req.set_entitlement_id(e.entitlement_id());
    req.set_expected_version(e.version());
    *req.mutable_decision() = std::move(d);
    req.set_finalise(finalise);
    return s117()->RecordEndDecision(Ctx(token).get(), req, out);
  };
  icr::v1::Entitlement out;
  // The ICB cannot record the council's decision.
  EXPECT_EQ(decide(icb, Decision("COUNCIL", 2), false, &out).error_code(), Code::PERMISSION_DENIED);
  // The council's decision alone: recorded, still ACTIVE.
  ASSERT_TRUE(decide(council, Decision("COUNCIL", 2), false, &out).ok());
  EXPECT_EQ(out.state(), "ACTIVE");
  ASSERT_EQ(out.end_decisions_size(), 1);
  e = out;
  EXPECT_EQ(decide(council, Decision("COUNCIL", 1), false, &out).error_code(), Code::ALREADY_EXISTS);
  // The ICB decides, but there is no review recommending discharge and the service is open.
  const std::string before = Snapshot(e.person_id());
  auto refused = decide(icb, Decision("ICB", 1), false, &out);
  EXPECT_EQ(refused.error_code(), Code::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("RECOMMEND_DISCHARGE"), std::string::npos);
  EXPECT_NE(refused.error_message().find("s117 service line"), std::string::npos);
  EXPECT_EQ(Snapshot(e.person_id()), before);

  icr::v1::EndAftercareServiceRequest end;
  end.set_entitlement_id(e.entitlement_id());
  end.set_expected_version(e.version());
  end.set_service_line_id(line_id);
  end.set_end_date(Day(10));
  end.set_end_reason("no longer needed");
  ASSERT_TRUE(s117()->EndAftercareService(Ctx(council).get(), end, &e).ok());
  icr::v1::RecordReviewRequest review;
  review.set_entitlement_id(e.entitlement_id());
  review.set_expected_version(e.version());
  *review.mutable_review() = Review(5, "RECOMMEND_DISCHARGE");
  ASSERT_TRUE(s117()->RecordReview(Ctx(icb).get(), review, &e).ok());

  ASSERT_TRUE(decide(icb, Decision("ICB", 1), false, &out).ok());
  EXPECT_EQ(out.state(), "ENDED_DISCHARGED");
  EXPECT_EQ(out.ended_on(), Day(1));  // the later decision
  EXPECT_EQ(out.end_decisions_size(), 2);
  EXPECT_TRUE(out.next_review_due().empty());
  EXPECT_EQ(Count("SELECT change_type FROM core.changes WHERE entity = 's117_episode' AND "
                  "entity_id = '" + e.entitlement_id() + "' ORDER BY txid DESC, seq DESC LIMIT 1"),
            "s117_discharged");
}

TEST_F(S117Test, EveryBadInputOfTheTableIsRefusedAndChangesNothing) {
  const std::string nhs = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  const std::string council = Token(kLeeds);
  icr::v1::Entitlement e;
  ASSERT_TRUE(s117()->OpenEntitlement(Ctx(council).get(), OpenActive(nhs, kLeeds, kLeedsIcb, 200), &e)
                  .ok());
  ASSERT_EQ(e.state(), "ACTIVE");  // detained 260 days ago, in force from 200 days ago
  icr::v1::AddAftercareServiceRequest first;
  first.set_entitlement_id(e.entitlement_id());
  first.set_expected_version(e.version());
  *first.mutable_service() = HomeCare(100);
  ASSERT_TRUE(AddLine(Ctx(council).get(), first, &e).ok());
  ASSERT_EQ(e.services_size(), 1);
  // The other person has no entitlement yet.
  const std::string nhs2 = NextNhsNumber();
  auto person2 = SeedPerson(kTrust, nhs2);

  struct Row {
    std::string what;
    std::function<grpc::Status()> call;
    Code code;
    std::string field;  // the message starts with it
  };
  auto open = [&](std::function<void(icr::v1::OpenEntitlementRequest&)> change) {
    return [&, change] {
      auto req = OpenActive(nhs2, kLeeds, kLeedsIcb, 100);
      change(req);
      icr::v1::Entitlement out;
      return s117()->OpenEntitlement(Ctx(council).get(), req, &out);
    };
  };
  auto add = [&](std::function<void(icr::v1::AftercareService&)> change) {
    return [&, change] {
      icr::v1::AddAftercareServiceRequest req;
      req.set_entitlement_id(e.entitlement_id());
      req.set_expected_version(e.version());
      *req.mutable_service() = HomeCare(100);
      change(*req.mutable_service());
      icr::v1::Entitlement out;
      return AddLine(Ctx(council).get(), req, &out);
    };
  };
  auto end = [&](const std::string& reason, bool finalise) {
    return [&, reason, finalise] {
      icr::v1::RecordEndDecisionRequest req;
      req.set_entitlement_id(e.entitlement_id());
      req.set_expected_version(e.version());
      *req.mutable_decision() = Decision("COUNCIL", 1, reason);
      req.set_finalise(finalise);
      icr::v1::Entitlement out;
      return s117()->RecordEndDecision(Ctx(council).get(), req, &out);
    };
  };
  auto council_code = [&](const std::string& code) {
    return [&, code] {
      icr::v1::SetResponsibleBodiesRequest req;
      req.set_entitlement_id(e.entitlement_id());
      req.set_expected_version(e.version());
      req.mutable_council()->set_code(code);
      req.mutable_council()->set_basis("OR_ENGLAND_S117_3A");
      icr::v1::Entitlement out;
      return s117()->SetResponsibleBodies(Ctx(council).get(), req, &out);
    };
  };
  // Refused against what is stored (architecture.md, Errors): FAILED_PRECONDITION. A write by the
  // council on e, its request filled in by fill.
  using Stub = icr::v1::S117RegisterService::Stub;
  auto write = [&]<class Req>(grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&,
                                                        icr::v1::Entitlement*),
                              std::type_identity_t<std::function<void(Req&)>> fill) {
    return [&, rpc, fill] {
      Req req;
      req.set_entitlement_id(e.entitlement_id());
      req.set_expected_version(e.version());
      fill(req);
      icr::v1::Entitlement out;
      auto stub = s117();
      return (stub.get()->*rpc)(Ctx(council).get(), req, &out);
    };
  };
  auto end_early = write(&Stub::EndAftercareService, [&](auto& r) {
    r.set_service_line_id(e.services(0).service_line_id());
    r.set_end_date(Day(150));
    r.set_end_reason("needs met");
  });
  auto review_early =
      write(&Stub::RecordReview, [](auto& r) { *r.mutable_review() = Review(230, "CONTINUE"); });
  auto decision_early = write(&Stub::RecordEndDecision,
                              [](auto& r) { *r.mutable_decision() = Decision("COUNCIL", 230); });
  auto cto_early = write(&Stub::RecordLegalEvent, [](auto& r) {
    r.set_kind("CTO_STARTED");
    r.set_date(Day(300));
  });
  const std::vector<Row> rows = {
      {"service before the detention", add([](auto& l) { l.set_start_date(Day(300)); }),
       Code::FAILED_PRECONDITION, "service.start_date"},
      {"service ended before it started", end_early, Code::FAILED_PRECONDITION, "end_date"},
      {"review before the duty", review_early, Code::FAILED_PRECONDITION, "review.review_date"},
      {"end decision before the duty", decision_early, Code::FAILED_PRECONDITION,
       "decision.decision_date"},
      {"CTO before the detention", cto_early, Code::FAILED_PRECONDITION, "date"},
      {"section 2", open([](auto& r) { r.set_legal_status_code("02"); }), Code::INVALID_ARGUMENT,
       "legal_status_code"},
      {"left before ceased", open([](auto& r) { r.set_left_hospital_date(Day(110)); }),
       Code::INVALID_ARGUMENT, "left_hospital_date"},
      {"ACTIVE with no trigger", open([](auto& r) { r.clear_left_hospital_date(); }),
       Code::INVALID_ARGUMENT, "left_hospital_date"},
      {"council decision only", end("NO_LONGER_NEEDS_AFTERCARE", true), Code::FAILED_PRECONDITION,
       "end_decision"},
      {"DISCHARGED_FROM_CMHT alone", end("DISCHARGED_FROM_CMHT", false), Code::FAILED_PRECONDITION,
       "decision.primary_reason"},
      {"TIME_ELAPSED alone", end("TIME_ELAPSED", false), Code::FAILED_PRECONDITION,
       "decision.primary_reason"},
      {"REFUSED_SERVICES alone", end("REFUSED_SERVICES", false), Code::FAILED_PRECONDITION,
       "decision.primary_reason"},
      {"district council", council_code("E07000008"), Code::INVALID_ARGUMENT, "council.code"},
      {"region", council_code("E12000001"), Code::INVALID_ARGUMENT, "council.code"},
      {"charged s117 line", add([](auto& l) { l.set_client_contribution_pence(1250); }),
       Code::INVALID_ARGUMENT, "service.client_contribution_pence"},
      {"split 60/50", add([](auto& l) { l.set_council_pct(60); }), Code::INVALID_ARGUMENT,
       "service.icb_pct"},
      {"need not from the mental disorder",
       add([](auto& l) { l.set_need_arises_from_mental_disorder(false); }), Code::INVALID_ARGUMENT,
       "service.need_arises_from_mental_disorder"},
      {"second open episode",
       [&] {
         icr::v1::Entitlement out;
         return s117()->OpenEntitlement(Ctx(council).get(), OpenActive(nhs, kLeeds, kLeedsIcb, 50),
                                        &out);
       },
       Code::FAILED_PRECONDITION, "nhs_number"},
      {"top-up on home care", add([](auto& l) {
         l.set_top_up_payer("sister");
         l.set_top_up_weekly_pence(5000);
       }),
       Code::INVALID_ARGUMENT, "service.top_up_weekly_pence"},
  };
  const std::string before = Snapshot(person.person_id()), before2 = Snapshot(person2.person_id());
  for (const auto& row : rows) {
    auto s = row.call();
    EXPECT_EQ(s.error_code(), row.code) << row.what << ": " << s.error_message();
    EXPECT_EQ(s.error_message().rfind(row.field + ":", 0), 0u) << row.what << ": " << s.error_message();
    EXPECT_EQ(Snapshot(person.person_id()), before) << row.what;
    EXPECT_EQ(Snapshot(person2.person_id()), before2) << row.what;
  }

  // On a CTO on the decision date: the s117(2) bar.
  icr::v1::RecordLegalEventRequest cto;
  cto.set_entitlement_id(e.entitlement_id());
  cto.set_expected_version(e.version());
  cto.set_kind("CTO_STARTED");
  cto.set_date(Day(150));
  ASSERT_TRUE(s117()->RecordLegalEvent(Ctx(council).get(), cto, &e).ok());
  const std::string on_cto = Snapshot(person.person_id());
  auto refused = end("NO_LONGER_NEEDS_AFTERCARE", false)();
  EXPECT_EQ(refused.error_code(), Code::FAILED_PRECONDITION);
  EXPECT_EQ(refused.error_message().rfind("on_cto:", 0), 0u) << refused.error_message();
  EXPECT_EQ(Snapshot(person.person_id()), on_cto);

  // A closed CMHT referral never closes it (the feed raises a review task instead).
  Events ev(nhs);
  Record({ev.OpenReferral("R1", 100), ev.CloseReferral("R1", 5)});
  CatchUp();
  EXPECT_EQ(MustGet(nhs).state(), "ACTIVE");
}

TEST_F(S117Test, TheDatabaseEnforcesTheInvariantsToo) {
  const std::string nhs = NextNhsNumber();
  const auto e = ActiveThroughTheFeed(nhs);
  // A second open episode for the same person.
  EXPECT_THROW(Count("INSERT INTO s117.episode (person_id, state, qualifying_section, "
                     "legal_status_code, detention_start_date, detaining_provider_code) "
                     "VALUES ('" + e.person_id() + "', 'PLANNED', 'S3', '03', current_date, "
                     "'RGD') RETURNING 1"),
               std::exception);
  // A district council, a charged s117 line, a split over 100, one body ending it alone.
  EXPECT_THROW(Count("UPDATE s117.episode SET responsible_council_code = 'E07000008' WHERE "
                     "episode_id = '" + e.entitlement_id() + "' RETURNING 1"),
               std::exception);
  const std::string line =
      "INSERT INTO s117.service_line (episode_id, service_type, provider_name, "
      "need_arises_from_mental_disorder, is_s117, start_date, funder, council_pct, icb_pct, "
      "weekly_cost_pence, client_contribution_pence, delivery_mode, recorded_by_org) VALUES ('" +
      e.entitlement_id() + "', 'HOME_CARE', 'x', true, true, current_date, 'JOINT', ";
  EXPECT_THROW(Count(line + "50, 50, 100, 1250, 'COMMISSIONED', 'RGD') RETURNING 1"), std::exception);
  EXPECT_THROW(Count(line + "60, 50, 100, 0, 'COMMISSIONED', 'RGD') RETURNING 1"), std::exception);
  EXPECT_THROW(Count("UPDATE s117.episode SET state = 'ENDED_DISCHARGED', ended_on = current_date "
                     "WHERE episode_id = '" + e.entitlement_id() + "' RETURNING 1"),
               std::exception);
  // The history is append-only.
  EXPECT_THROW(Count("DELETE FROM s117.episode_history WHERE episode_id = '" + e.entitlement_id() +
                     "' RETURNING 1"),
               std::exception);
  EXPECT_THROW(Count("UPDATE s117.episode_history SET reason = 'x' WHERE episode_id = '" +
                     e.entitlement_id() + "' RETURNING 1"),
               std::exception);
}

TEST_F(S117Test, WhoSeesAnEntitlement) {
  const std::string nhs = NextNhsNumber();
  const auto e = ActiveThroughTheFeed(nhs);
  icr::v1::Entitlement out;
  EXPECT_TRUE(GetById(Token(kLeeds), e.entitlement_id(), &out).ok());            // its council
  EXPECT_TRUE(GetById(Token(kLeedsIcb), e.entitlement_id(), &out).ok());         // its ICB
  EXPECT_TRUE(GetById(stack.Token(kTrust, "clinician"), e.entitlement_id(), &out).ok());  // trust
  // Anyone else: NOT_FOUND, exactly as for an id that does not exist; audited as denied.
  icr::v1::Entitlement none;
  auto missing = GetById(Token(kNewcastle), "00000000-0000-4000-8000-000000000000", &none);
  for (const auto& org : {std::string(kNewcastle), std::string(kOtherIcb), std::string(kOtherTrust)}) {
    auto s = GetById(Token(org, "social_worker"), e.entitlement_id(), &out);
    EXPECT_EQ(s.error_code(), Code::NOT_FOUND) << org;
    EXPECT_EQ(s.error_message(), missing.error_message()) << org;
    EXPECT_EQ(Count("SELECT count(*) FROM core.audit WHERE person_id = '" + e.person_id() +
                    "' AND org_code = '" + org + "' AND outcome = 'denied'"),
              "1")
        << org;
  }
  EXPECT_EQ(Get(Token(kNewcastle), nhs, &out).error_code(), Code::NOT_FOUND);
  // Nor can they write to it.
  icr::v1::SetResponsibleBodiesRequest set;
  set.set_entitlement_id(e.entitlement_id());
  set.set_expected_version(e.version());
  set.set_or_dispute_status("DISPUTED");
  EXPECT_EQ(s117()->SetResponsibleBodies(Ctx(Token(kNewcastle)).get(), set, &out).error_code(),
            Code::NOT_FOUND);
  // Aggregates only for performance analysts; no token, no entry.
  EXPECT_EQ(GetById(Token(kLeedsIcb, "performance_analyst"), e.entitlement_id(), &out).error_code(),
            Code::PERMISSION_DENIED);
  icr::v1::ListRegisterRequest list;
  icr::v1::ListRegisterResponse rows;
  EXPECT_EQ(s117()->ListRegister(Ctx(Token(kLeedsIcb, "performance_analyst")).get(), list, &rows)
                .error_code(),
            Code::PERMISSION_DENIED);
  EXPECT_EQ(GetById("", e.entitlement_id(), &out).error_code(), Code::UNAUTHENTICATED);
  // Break glass: seen, and the reason is in the audit.
  ASSERT_TRUE(Get(Token(kOtherTrust, "clinician"), nhs, &out,
                  {{"x-break-glass-reason", "crisis team: patient presenting in A&E"}})
                  .ok());
  EXPECT_EQ(Count("SELECT count(*) FROM core.audit WHERE person_id = '" + e.person_id() +
                  "' AND org_code = 'RX4' AND break_glass_reason <> '' AND outcome = 'ok'"),
            "1");
}

TEST_F(S117Test, WritesAreVersionedAuditedKeptInHistoryAndSentToTheChangeFeed) {
  const std::string nhs = NextNhsNumber();
  const auto e = ActiveThroughTheFeed(nhs);
  icr::v1::SetResponsibleBodiesRequest set;
  set.set_entitlement_id(e.entitlement_id());
  set.set_expected_version(e.version());
  set.mutable_council()->set_code(kLeeds);
  set.mutable_council()->set_basis("OR_ENGLAND_S117_3A");
  set.mutable_council()->set_evidence("Council tax record at the address before admission");
  set.mutable_icb()->set_code(kLeedsIcb);
  set.mutable_icb()->set_basis("CORE_GP_REGISTRATION");
  set.mutable_icb()->set_gp_practice_at_application("B86001");
  set.set_or_dispute_status("NONE");
  set.set_reason("ordinary residence confirmed");
  icr::v1::Entitlement out;
  ASSERT_TRUE(s117()->SetResponsibleBodies(Ctx(Token(kLeeds)).get(), set, &out).ok());
  EXPECT_EQ(out.version(), e.version() + 1);
  EXPECT_FALSE(out.council().provisional());
  EXPECT_EQ(out.icb().basis(), "CORE_GP_REGISTRATION");

  // The same expected_version again is stale: ABORTED, and nothing changes.
  const std::string before = Snapshot(e.person_id());
  EXPECT_EQ(s117()->SetResponsibleBodies(Ctx(Token(kLeeds)).get(), set, &out).error_code(),
            Code::ABORTED);
  EXPECT_EQ(Snapshot(e.person_id()), before);

  EXPECT_EQ(Count("SELECT count(*) FROM core.audit WHERE person_id = '" + e.person_id() +
                  "' AND action = 'SetResponsibleBodies' AND org_code = '" + kLeeds +
                  "' AND role = 's117_officer' AND outcome = 'ok'"),
            "1");
  EXPECT_EQ(Count("SELECT actor_org || ' ' || action || ' ' || reason || ' ' || "
                  "(snapshot->>'council_provisional') FROM s117.episode_history WHERE "
                  "episode_id = '" + e.entitlement_id() + "' AND version = " +
                  std::to_string(out.version())),
            std::string(kLeeds) + " s117_responsible_bodies_set ordinary residence confirmed false");
  EXPECT_EQ(Count("SELECT count(*) FROM core.changes WHERE entity = 's117_episode' AND "
                  "entity_id = '" + e.entitlement_id() + "' AND change_type = "
                  "'s117_responsible_bodies_set' AND org_code = '" + kLeeds + "'"),
            "1");
  // Every version is in the history, oldest first.
  icr::v1::Entitlement with_history;
  ASSERT_TRUE(GetById(Token(kLeeds), e.entitlement_id(), &with_history, true).ok());
  ASSERT_EQ(with_history.history_size(), out.version());
  EXPECT_EQ(with_history.history(0).action(), "s117_opened");
  EXPECT_EQ(with_history.history(out.version() - 1).action(), "s117_responsible_bodies_set");
  EXPECT_NE(with_history.history(0).snapshot_json().find("\"state\": \"PLANNED\""),
            std::string::npos);
  // Reads are audited too.
  EXPECT_GE(std::stoi(Count("SELECT count(*) FROM core.audit WHERE person_id = '" + e.person_id() +
                            "' AND action = 'GetEntitlement' AND outcome = 'ok'")),
            1);
}

TEST_F(S117Test, ADeliveredAgainFeedChangesNothing) {
  // History to replay: open, activate, re-detain, close a referral, die.
  const std::string nhs = NextNhsNumber();
  ActiveThroughTheFeed(nhs);
  Events ev(nhs);
  Record({ev.OpenReferral("R1", 240), ev.CloseReferral("R1", 200)});
  Record({ev.Admit("S2", 150), ev.Detain("D2", "03", 150)});
  Record({ev.EndDetention("D2", 120), ev.Discharge("S2", 120)});
  Record({ev.Admit("S3", 90), ev.Detain("D3", "02", 90), ev.Die(80)});
  CatchUp();
  const std::string state =
      "SELECT (SELECT count(*) || '/' || sum(version) FROM s117.episode) || ' ' || "
      "(SELECT count(*) FROM s117.episode_history) || ' ' || (SELECT count(*) FROM s117.task) "
      "|| ' ' || (SELECT count(*) FROM s117.episode_detention) || ' ' || "
      "(SELECT count(*) FROM core.changes WHERE entity = 's117_episode') || ' ' || "
      "(SELECT count(*) FROM s117.feed_error)";
  const std::string before = Count(state);
  EXPECT_EQ(Count("SELECT string_agg(e.state, ',' ORDER BY e.created_at) FROM s117.episode e JOIN "
                  "core.person p USING (person_id) WHERE p.nhs_number = '" + nhs + "'"),
            "ENDED_SUPERSEDED,ENDED_DECEASED");
  // Deliver everything again, from the start of the feed.
  Count("UPDATE s117.feed_cursor SET txid = '0', seq = 0 RETURNING 1");
  CatchUp();
  EXPECT_EQ(Count(state), before);
  EXPECT_NE(Count("SELECT txid::text FROM s117.feed_cursor"), "0");
}

TEST_F(S117Test, TheRegisterIsFilteredPagedAndExported) {
  // Three Bristol entitlements (no other test uses Bristol): one overdue for review, one with
  // an open referral, one reviewed lately.
  const std::string bristol = Token(kBristol), bristol_icb = Token("QUY");
  std::vector<icr::v1::Entitlement> made;
  for (int left : {400, 100, 120}) {
    const std::string nhs = NextNhsNumber();
    icr::v1::UpsertPersonRequest req;
    *req.mutable_person() = MakePerson(nhs);
    req.mutable_person()->set_council_code(kBristol);
    req.mutable_person()->set_icb_code("QUY");
    icr::v1::Person p;
    ASSERT_TRUE(stack.record()->UpsertPerson(Ctx(trust).get(), req, &p).ok());
    icr::v1::Entitlement e;
    auto s = s117()->OpenEntitlement(Ctx(bristol).get(), OpenActive(nhs, kBristol, "QUY", left), &e);
    ASSERT_TRUE(s.ok()) << s.error_message();
    made.push_back(e);
  }
  Events ev(made[1].nhs_number());
  Record({ev.OpenReferral("R1", 90)});
  icr::v1::RecordReviewRequest review;
  review.set_entitlement_id(made[2].entitlement_id());
  review.set_expected_version(made[2].version());
  *review.mutable_review() = Review(10, "CONTINUE");
  ASSERT_TRUE(s117()->RecordReview(Ctx(bristol_icb).get(), review, &made[2]).ok());

  auto list = [&](const std::string& token, icr::v1::RegisterFilter filter, int page_size = 0) {
    std::vector<icr::v1::RegisterRow> rows;
    icr::v1::ListRegisterRequest req;
    *req.mutable_filter() = filter;
    req.mutable_page()->set_page_size(page_size);
    for (int pages = 0; pages < 10; ++pages) {
      icr::v1::ListRegisterResponse resp;
      auto s = s117()->ListRegister(Ctx(token).get(), req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      rows.insert(rows.end(), resp.rows().begin(), resp.rows().end());
      if (resp.page().next_page_token().empty()) break;
      req.mutable_page()->set_page_token(resp.page().next_page_token());
    }
    return rows;
  };
  // Paged two at a time: each row once.
  auto all = list(bristol, {}, 2);
  ASSERT_EQ(all.size(), 3u);
  std::set<std::string> ids;
  for (const auto& r : all) ids.insert(r.entitlement_id());
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(all[0].responsible_council_code(), kBristol);
  EXPECT_FALSE(all[0].nhs_number().empty());
  // The ICB sees the same three; another council none of them.
  icr::v1::RegisterFilter by_council;
  by_council.set_council_code(kBristol);
  EXPECT_EQ(list(bristol_icb, by_council).size(), 3u);
  EXPECT_TRUE(list(Token(kNewcastle), by_council).empty());
  icr::v1::RegisterFilter other_icb;
  other_icb.set_icb_code(kLeedsIcb);
  EXPECT_TRUE(list(bristol, other_icb).empty());

  icr::v1::RegisterFilter overdue;
  overdue.set_review_overdue_as_of(Day(0));
  auto late = list(bristol, overdue);
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late[0].entitlement_id(), made[0].entitlement_id());
  EXPECT_TRUE(late[0].review_overdue());
  icr::v1::RegisterFilter stale;
  stale.set_stale(true);
  auto forgotten = list(bristol, stale);
  ASSERT_EQ(forgotten.size(), 1u);  // no open referral and no review in 12 months
  EXPECT_EQ(forgotten[0].entitlement_id(), made[0].entitlement_id());
  icr::v1::RegisterFilter legal;
  legal.set_legal_determination_required(true);
  EXPECT_TRUE(list(bristol, legal).empty());
  icr::v1::RegisterFilter planned;
  planned.set_state("PLANNED");
  EXPECT_TRUE(list(bristol, planned).empty());
  icr::v1::ListRegisterRequest bad;
  bad.mutable_filter()->set_state("OPEN");
  icr::v1::ListRegisterResponse resp;
  auto s = s117()->ListRegister(Ctx(bristol).get(), bad, &resp);
  EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("filter.state:", 0), 0u);
  EXPECT_GE(std::stoi(Count("SELECT count(*) FROM core.audit WHERE action = 'ListRegister' AND "
                            "person_id = '" + made[0].person_id() + "'")),
            1);

  // Export streams every row the caller sees.
  icr::v1::ExportRegisterRequest exp;
  auto ctx = Ctx(bristol_icb);
  auto reader = s117()->ExportRegister(ctx.get(), exp);
  icr::v1::RegisterRow row;
  std::set<std::string> exported;
  while (reader->Read(&row)) exported.insert(row.entitlement_id());
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(exported, ids);
  EXPECT_EQ(Count("SELECT count(*) FROM core.audit WHERE action = 'ExportRegister' AND "
                  "org_code = 'QUY'"),
            "3");
}

TEST_F(S117Test, AFundingAgreementGivesTheDefaultSplit) {
  const std::string nhs = NextNhsNumber();
  icr::v1::UpsertPersonRequest req;
  *req.mutable_person() = MakePerson(nhs);
  req.mutable_person()->set_council_code(kCamden);
  req.mutable_person()->set_icb_code("QMJ");
  icr::v1::Person p;
  ASSERT_TRUE(stack.record()->UpsertPerson(Ctx(trust).get(), req, &p).ok());
  const std::string camden = Token(kCamden);
  icr::v1::Entitlement e;
  ASSERT_TRUE(s117()->OpenEntitlement(Ctx(camden).get(), OpenActive(nhs, kCamden, "QMJ", 60), &e).ok());
  Count("INSERT INTO s117.funding_agreement (council_code, icb_code, valid_from, council_pct, "
        "icb_pct, review_interval_months) VALUES ('E09000007', 'QMJ', '2020-01-01', 40, 60, 6) "
        "ON CONFLICT DO NOTHING RETURNING 1");
  icr::v1::AddAftercareServiceRequest add;
  add.set_entitlement_id(e.entitlement_id());
  add.set_expected_version(e.version());
  *add.mutable_service() = HomeCare(50);
  icr::v1::Entitlement out;
  auto differs = AddLine(Ctx(camden).get(), add, &out);
  EXPECT_EQ(differs.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_EQ(differs.error_message().rfind("service.split_override_reason:", 0), 0u);
  add.mutable_service()->set_council_pct(0);
  add.mutable_service()->set_icb_pct(0);
  ASSERT_TRUE(AddLine(Ctx(camden).get(), add, &out).ok());
  EXPECT_EQ(out.services(0).council_pct(), 40);
  EXPECT_EQ(out.services(0).icb_pct(), 60);
  // The agreement's 6-month review interval bounds the next review.
  icr::v1::RecordReviewRequest review;
  review.set_entitlement_id(out.entitlement_id());
  review.set_expected_version(out.version());
  *review.mutable_review() = Review(5, "CONTINUE");
  ASSERT_TRUE(s117()->RecordReview(Ctx(camden).get(), review, &out).ok());
  EXPECT_EQ(out.next_review_due(), FormatDate(s117::AddMonths(DaysAgo(5), 6)));
}

TEST_F(S117Test, RecordedInErrorIsPrivilegedAndFreesTheOpenSlot) {
  const std::string nhs = NextNhsNumber();
  const auto e = ActiveThroughTheFeed(nhs);
  icr::v1::RecordInErrorRequest req;
  req.set_entitlement_id(e.entitlement_id());
  req.set_expected_version(e.version());
  req.set_reason("created for the wrong person after an NHS number mix-up");
  icr::v1::Entitlement out;
  EXPECT_EQ(s117()->RecordInError(Ctx(Token(kLeeds, "social_worker")).get(), req, &out).error_code(),
            Code::PERMISSION_DENIED);
  req.clear_reason();
  EXPECT_EQ(s117()->RecordInError(Ctx(Token(kLeeds)).get(), req, &out).error_code(),
            Code::INVALID_ARGUMENT);
  req.set_reason("created for the wrong person after an NHS number mix-up");
  ASSERT_TRUE(s117()->RecordInError(Ctx(Token(kLeeds)).get(), req, &out).ok());
  EXPECT_EQ(out.state(), "VOID");
  EXPECT_EQ(out.void_reason(), req.reason());
  // VOID is out of the register and of the person's current entitlement.
  icr::v1::Entitlement none;
  EXPECT_EQ(Get(Token(kLeeds), nhs, &none).error_code(), Code::NOT_FOUND);
  icr::v1::Entitlement fresh;
  ASSERT_TRUE(s117()->OpenEntitlement(Ctx(Token(kLeeds)).get(),
                                      OpenActive(nhs, kLeeds, kLeedsIcb, 30), &fresh)
                  .ok());
}

TEST_F(S117Test, TheIntegratedRecordShowsTheS117Summary) {
  const std::string nhs = NextNhsNumber();
  auto e = ActiveThroughTheFeed(nhs);
  icr::v1::AddAftercareServiceRequest add;
  add.set_entitlement_id(e.entitlement_id());
  add.set_expected_version(e.version());
  *add.mutable_service() = HomeCare(200);
  ASSERT_TRUE(AddLine(Ctx(Token(kLeeds)).get(), add, &e).ok());
  icr::v1::GetIntegratedRecordRequest req;
  req.set_nhs_number(nhs);
  icr::v1::IntegratedRecord rec;
  ASSERT_TRUE(stack.record()->GetIntegratedRecord(Ctx(stack.Token(kTrust, "clinician")).get(), req, &rec).ok());
  EXPECT_EQ(rec.s117().entitlement_id(), e.entitlement_id());
  EXPECT_EQ(rec.s117().state(), "ACTIVE");
  EXPECT_EQ(rec.s117().responsible_council_code(), kLeeds);
  EXPECT_EQ(rec.s117().responsible_icb_code(), kLeedsIcb);
  EXPECT_EQ(rec.s117().next_review_due(), e.next_review_due());
  ASSERT_EQ(rec.s117().aftercare_services_size(), 1);
  EXPECT_EQ(rec.s117().aftercare_services(0), "Daily visits, Leeds Home Support");
}

TEST(S117Feed, TheFollowerRidesOutTheDatabaseGoingAwayAndCatchesUpByItself) {
  // A database of its own, so that taking it away disturbs no other test.
  const std::string url = Stack::NewDatabase("s117feed");
  const std::string name = url.substr(url.rfind("dbname=") + 7);
  auto admin = [&](const std::string& sql) {
    pqxx::connection c(std::string(std::getenv("ICR_TEST_PG")) + " dbname=postgres");
    pqxx::nontransaction tx(c);
    tx.exec(sql);
  };
  auto ref = LoadReferenceData(Stack::Get().db());
  ASSERT_TRUE(ref.ok());
  s117::FeedFollower follower(url, *ref);
  ASSERT_TRUE(follower.CatchUp().ok());

  admin("ALTER DATABASE \"" + name + "\" WITH ALLOW_CONNECTIONS false");
  admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'");
  EXPECT_EQ(follower.CatchUp().status().code(), absl::StatusCode::kUnavailable);
  follower.Start(std::chrono::milliseconds(50), std::chrono::milliseconds(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // failing, backing off
  admin("ALTER DATABASE \"" + name + "\" WITH ALLOW_CONNECTIONS true");

  // The record gains a qualifying detention; the follower applies it without being asked.
  {
    pqxx::connection c(url);
    pqxx::work tx(c);
    const std::string person = tx.exec1(
        "INSERT INTO core.person (nhs_number, family_name, date_of_birth, council_code, icb_code) "
        "VALUES ('" + NextNhsNumber() + "', 'Testperson', '1980-05-17', 'E08000035', 'QWO') "
        "RETURNING person_id::text")[0].c_str();
    tx.exec("INSERT INTO core.detention (person_id, source_org, detention_id, legal_status_code, "
            "started_at, provider_code) VALUES ('" + person + "', 'RGD', 'D1', '03', "
            "now() - interval '2 days', 'RGD')");
    tx.exec("INSERT INTO core.changes (entity, entity_id, person_id, change_type, org_code) "
            "VALUES ('detention', 'RGD/D1', '" + person + "', 'detention_started', 'RGD')");
    tx.commit();
  }
  std::string opened;
  for (int i = 0; i < 150 && opened != "PLANNED"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    pqxx::connection c(url);
    pqxx::nontransaction tx(c);
    auto r = tx.exec("SELECT state FROM s117.episode");
    opened = r.empty() ? "" : r[0][0].c_str();
  }
  follower.Stop();
  EXPECT_EQ(opened, "PLANNED");
}

// Out-of-range input is bad input naming its field (never another refusal) and changes
// nothing: money above £1,000,000 a week, dates after 2100, versions beyond any stored one.
TEST_F(S117Test, OutOfRangeInputIsInvalidArgumentNamingTheField) {
  const std::string nhs = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  const std::string council = Token(kLeeds);
  icr::v1::Entitlement e;
  ASSERT_TRUE(s117()
                  ->OpenEntitlement(Ctx(council).get(), OpenActive(nhs, kLeeds, kLeedsIcb, 200), &e)
                  .ok());
  icr::v1::AddAftercareServiceRequest first;
  first.set_entitlement_id(e.entitlement_id());
  first.set_expected_version(e.version());
  *first.mutable_service() = HomeCare(100);
  ASSERT_TRUE(AddLine(Ctx(council).get(), first, &e).ok());
  ASSERT_EQ(e.services_size(), 1);

  // The version as stored (read without a call, which would be audited).
  auto version = [&] {
    return std::stoll(
        Count("SELECT version FROM s117.episode WHERE episode_id = '" + e.entitlement_id() + "'"));
  };
  auto add = [&](std::function<void(icr::v1::AddAftercareServiceRequest&)> change) {
    return [&, change] {
      icr::v1::AddAftercareServiceRequest req;
      req.set_entitlement_id(e.entitlement_id());
      req.set_expected_version(version());
      *req.mutable_service() = HomeCare(100);
      change(req);
      icr::v1::Entitlement out;
      return AddLine(Ctx(council).get(), req, &out);
    };
  };
  auto end_line = [&](std::optional<int64_t> expected_version, const std::string& date) {
    return [&, expected_version, date] {
      icr::v1::EndAftercareServiceRequest req;
      req.set_entitlement_id(e.entitlement_id());
      req.set_expected_version(expected_version.value_or(version()));
      req.set_service_line_id(e.services(0).service_line_id());
      req.set_end_date(date);
      req.set_end_reason("needs met");
      icr::v1::Entitlement out;
      return s117()->EndAftercareService(Ctx(council).get(), req, &out);
    };
  };
  const std::vector<std::tuple<std::string, std::function<grpc::Status()>, std::string>> rows = {
      {"cost over £1m a week",
       add([](auto& r) { r.mutable_service()->set_weekly_cost_pence(100'000'001); }),
       "service.weekly_cost_pence"},
      {"cost of 2^63-1",
       add([](auto& r) { r.mutable_service()->set_weekly_cost_pence(INT64_MAX); }),
       "service.weekly_cost_pence"},
      {"contribution of 2^63-1", add([](auto& r) {
         r.mutable_service()->set_is_s117(false);
         r.mutable_service()->set_client_contribution_pence(INT64_MAX);
       }),
       "service.client_contribution_pence"},
      {"starts after 2100", add([](auto& r) { r.mutable_service()->set_start_date("2101-01-01"); }),
       "service.start_date"},
      {"version beyond int32", add([](auto& r) { r.set_expected_version(int64_t{1} << 31); }),
       "expected_version"},
      {"ends after 2100", end_line(std::nullopt, "2101-01-01"), "end_date"},
      {"end: version beyond int32", end_line(INT64_MAX, Day(1)), "expected_version"},
      {"overdue as of after 2100",
       [&] {
         icr::v1::ListRegisterRequest req;
         req.mutable_filter()->set_review_overdue_as_of("2101-01-01");
         icr::v1::ListRegisterResponse out;
         return s117()->ListRegister(Ctx(council).get(), req, &out);
       },
       "filter.review_overdue_as_of"},
  };
  const std::string before = Snapshot(person.person_id());
  for (const auto& [what, call, field] : rows) {
    auto s = call();
    EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT) << what << ": " << s.error_message();
    EXPECT_EQ(s.error_message().rfind(field + ":", 0), 0u) << what << ": " << s.error_message();
  }
  EXPECT_EQ(Snapshot(person.person_id()), before);
}

// Amounts stored before they were bounded (written here straight into the table, as a legacy
// load would have) never break a council's listing or export: the sums are held at the largest
// 64-bit value. Sheffield's register holds only this entitlement.
TEST_F(S117Test, HugeStoredCostsDoNotBreakTheRegister) {
  constexpr char kSheffield[] = "E08000019";
  const std::string sheffield = Token(kSheffield);
  const std::string nhs = NextNhsNumber();
  icr::v1::UpsertPersonRequest req;
  *req.mutable_person() = MakePerson(nhs);
  req.mutable_person()->set_council_code(kSheffield);
  req.mutable_person()->set_icb_code("QF7");
  icr::v1::Person p;
  ASSERT_TRUE(stack.record()->UpsertPerson(Ctx(trust).get(), req, &p).ok());
  icr::v1::Entitlement e;
  ASSERT_TRUE(
      s117()
          ->OpenEntitlement(Ctx(sheffield).get(), OpenActive(nhs, kSheffield, "QF7", 100), &e)
          .ok());
  icr::v1::AddAftercareServiceRequest add;
  add.set_entitlement_id(e.entitlement_id());
  add.set_expected_version(e.version());
  *add.mutable_service() = HomeCare(50);
  ASSERT_TRUE(AddLine(Ctx(sheffield).get(), add, &e).ok());
  const std::string line = "FROM s117.service_line WHERE episode_id = '" + e.entitlement_id() + "'";
  stack.Scalar(
      "UPDATE s117.service_line SET weekly_cost_pence = 9223372036854775807 WHERE "
      "episode_id = '" +
      e.entitlement_id() + "'");
  stack.Scalar(
      "INSERT INTO s117.service_line (episode_id, service_type, provider_name, "
      "need_arises_from_mental_disorder, is_s117, start_date, funder, council_pct, "
      "icb_pct, weekly_cost_pence, delivery_mode, recorded_by_org) SELECT episode_id, "
      "service_type, provider_name, true, true, start_date, funder, council_pct, icb_pct, "
      "weekly_cost_pence, delivery_mode, recorded_by_org " +
      line);
  ASSERT_EQ(
      stack.Scalar("SELECT count(*) " + line + " AND weekly_cost_pence = 9223372036854775807"),
      "2");

  icr::v1::ListRegisterRequest list;
  list.mutable_filter()->set_council_code(kSheffield);
  icr::v1::ListRegisterResponse rows;
  auto s = s117()->ListRegister(Ctx(sheffield).get(), list, &rows);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  ASSERT_EQ(rows.rows_size(), 1);
  EXPECT_EQ(rows.rows(0).open_services(), 2);
  EXPECT_EQ(rows.rows(0).weekly_cost_pence(), INT64_MAX);
  EXPECT_EQ(rows.rows(0).council_weekly_pence(), INT64_MAX);
  EXPECT_EQ(rows.rows(0).icb_weekly_pence(), INT64_MAX);

  icr::v1::ExportRegisterRequest exp;
  *exp.mutable_filter() = list.filter();
  auto ctx = Ctx(sheffield);
  auto reader = s117()->ExportRegister(ctx.get(), exp);
  icr::v1::RegisterRow row;
  int exported = 0;
  while (reader->Read(&row)) {
    EXPECT_EQ(row.weekly_cost_pence(), INT64_MAX);
    ++exported;
  }
  s = reader->Finish();
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  EXPECT_EQ(exported, 1);

  // The indicators sum the same costs (as numeric): computing this month still works.
  icr::v1::ComputeIndicatorsRequest compute;
  compute.set_from_month(FormatDate(Today()).substr(0, 7));
  icr::v1::ComputeIndicatorsResponse computed;
  s = icr::v1::PerformanceService::NewStub(stack.channel())
          ->ComputeIndicators(Ctx(stack.Token("QF7", "performance_analyst")).get(), compute,
                              &computed);
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
}

}  // namespace
}  // namespace icr::test

namespace icr::test {
namespace {
// Attack (issue: one access rule): an unrelated trust moved an entitlement to another council
// and ICB, after which the real council got NOT_FOUND. Unrelated: NOT_FOUND; a trust that sees
// the person but is no responsible body: PERMISSION_DENIED; both audited, nothing changed.
TEST_F(S117Test, OnlyACurrentResponsibleBodyChangesTheResponsibleBodies) {
  const std::string nhs = NextNhsNumber();
  const auto e = ActiveThroughTheFeed(nhs);
  icr::v1::SetResponsibleBodiesRequest set;
  set.set_entitlement_id(e.entitlement_id());
  set.set_expected_version(e.version());
  set.mutable_council()->set_code(kCamden);
  set.mutable_council()->set_basis("OR_ENGLAND_S117_3A");
  icr::v1::Entitlement out;
  const std::string denied = "SELECT count(*) FROM core.audit WHERE action = "
                             "'SetResponsibleBodies' AND outcome = 'denied' AND person_id = '" +
                             e.person_id() + "'";
  EXPECT_EQ(s117()->SetResponsibleBodies(Ctx(Token("RXV", "system")).get(), set, &out)
                .error_code(),
            Code::NOT_FOUND);
  // Breaking glass opens reads, never writes.
  EXPECT_EQ(s117()
                ->SetResponsibleBodies(Ctx(Token("RXV", "clinician"),
                                           {{"x-break-glass-reason", "unconscious in ED"}})
                                           .get(),
                                       set, &out)
                .error_code(),
            Code::NOT_FOUND);
  EXPECT_EQ(s117()->SetResponsibleBodies(Ctx(trust).get(), set, &out).error_code(),
            Code::PERMISSION_DENIED);
  EXPECT_EQ(stack.Scalar(denied), "3");
  // The real council still holds its entitlement, unchanged.
  const auto still = MustGet(nhs);
  EXPECT_EQ(still.council().code(), kLeeds);
  EXPECT_EQ(still.version(), e.version());
}

// Authentication and the role check come before any validation: no token with bad input is
// UNAUTHENTICATED, not INVALID_ARGUMENT.
TEST_F(S117Test, AuthenticationComesBeforeValidation) {
  icr::v1::Entitlement out;
  icr::v1::EndAftercareServiceRequest end;
  end.set_service_line_id("not-an-id");
  EXPECT_EQ(s117()->EndAftercareService(Ctx("").get(), end, &out).error_code(),
            Code::UNAUTHENTICATED);
  icr::v1::RecordEndDecisionRequest decision;
  EXPECT_EQ(s117()->RecordEndDecision(Ctx("").get(), decision, &out).error_code(),
            Code::UNAUTHENTICATED);
  icr::v1::RecordLegalEventRequest legal;
  legal.set_kind("NONSENSE");
  EXPECT_EQ(s117()->RecordLegalEvent(Ctx("bad-token").get(), legal, &out).error_code(),
            Code::UNAUTHENTICATED);
  icr::v1::RecordInErrorRequest in_error;
  EXPECT_EQ(s117()->RecordInError(Ctx("").get(), in_error, &out).error_code(),
            Code::UNAUTHENTICATED);
  EXPECT_EQ(s117()->RecordInError(Ctx(Token(kLeeds, "performance_analyst")).get(), in_error, &out)
                .error_code(),
            Code::PERMISSION_DENIED);
}
}  // namespace
}  // namespace icr::test
