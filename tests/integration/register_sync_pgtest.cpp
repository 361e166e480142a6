// The register in step with the record, through real gRPC on real PostgreSQL: the change cursor a
// write returns (RecordEvents, ImportEvents), GetFeedPosition waiting for the service's own feed
// follower to apply it, and ReconcileRegister's findings of a council's and an ICB's register
// against the record (one person of each reachable kind, and a clean one producing none).
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <vector>

#include "icr/v1/s117.grpc.pb.h"
#include "services/common/changes.h"
#include "services/common/validation.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {
using google::protobuf::util::TimeUtil;
using Code = grpc::StatusCode;

constexpr char kTrust[] = "RGD";
constexpr char kLeeds[] = "E08000035";  // where MakePerson lives
constexpr char kLeedsIcb[] = "QWO";

std::string Day(int days_ago) { return FormatDate(Today() - std::chrono::days{days_ago}); }
int64_t At(int days_ago) {
  return std::chrono::sys_seconds{Today() - std::chrono::days{days_ago}}
             .time_since_epoch()
             .count() +
         43200;
}

class RegisterSyncTest : public ::testing::Test {
 protected:
  std::unique_ptr<icr::v1::S117RegisterService::Stub> s117() {
    return icr::v1::S117RegisterService::NewStub(stack.channel());
  }
  // An s3 detention `detained` days ago, ended with the discharge `left` days ago, recorded by
  // the trust in two calls; returns the second call's change cursor.
  std::string DetainAndDischarge(const std::string& nhs, int detained, int left) {
    SeedPerson(kTrust, nhs);
    const std::string spell = "S-" + nhs, detention = "D-" + nhs;
    icr::v1::RecordEventsResponse first, second;
    EXPECT_TRUE(
        Send(trust,
             {build::Admission(nhs, "adm-" + nhs, spell, kTrust, At(detained)),
              build::DetentionStart(nhs, "det-" + nhs, detention, "03", kTrust, At(detained))},
             &first)
            .ok());
    EXPECT_TRUE(
        Send(trust,
             {build::DetentionEnd(nhs, "end-" + nhs, detention, At(left), "discharged by RC"),
              build::Discharge(nhs, "dis-" + nhs, spell, At(left))},
             &second)
            .ok());
    EXPECT_FALSE(first.change_cursor().empty());
    EXPECT_FALSE(second.change_cursor().empty());
    return second.change_cursor();
  }
  grpc::Status Position(const std::string& token, const std::string& cursor, int wait_ms,
                        icr::v1::FeedPosition* out) {
    icr::v1::GetFeedPositionRequest req;
    req.set_cursor(cursor);
    req.set_wait_ms(wait_ms);
    return s117()->GetFeedPosition(Ctx(token).get(), req, out);
  }
  // Waits for the register to apply the write (the service's follower), then reads the
  // entitlement as the council's S117 officer.
  icr::v1::Entitlement Applied(const std::string& nhs, const std::string& cursor) {
    icr::v1::FeedPosition pos;
    auto s = Position(stack.Token(kTrust, "clinician"), cursor, 25000, &pos);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(pos.applied()) << cursor << " not applied; at " << pos.applied_cursor();
    icr::v1::GetEntitlementRequest get;
    get.set_nhs_number(nhs);
    icr::v1::Entitlement e;
    s = s117()->GetEntitlement(Ctx(officer).get(), get, &e);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return e;
  }
  std::vector<icr::v1::ReconciliationFinding> Reconcile(const std::string& token,
                                                        const std::string& as_of,
                                                        grpc::Status* status) {
    icr::v1::ReconcileRegisterRequest req;
    req.set_as_of(as_of);
    auto ctx = Ctx(token);
    auto reader = s117()->ReconcileRegister(ctx.get(), req);
    std::vector<icr::v1::ReconciliationFinding> out;
    icr::v1::ReconciliationFinding f;
    while (reader->Read(&f)) out.push_back(f);
    *status = reader->Finish();
    return out;
  }
  // The findings about one NHS number, by kind.
  static std::multimap<std::string, icr::v1::ReconciliationFinding> Of(
      const std::vector<icr::v1::ReconciliationFinding>& all, const std::string& nhs) {
    std::multimap<std::string, icr::v1::ReconciliationFinding> out;
    for (const auto& f : all) {
      if (f.nhs_number() == nhs) out.emplace(f.kind(), f);
    }
    return out;
  }
  std::string PersonId(const std::string& nhs) {
    return stack.Scalar("SELECT person_id FROM core.person WHERE nhs_number = '" + nhs + "'");
  }

  Stack& stack = Stack::Get();
  std::string trust = stack.Token(kTrust, "system");
  std::string officer = stack.Token(kLeeds, "s117_officer");
};

// A write returns the cursor of its last change; the register says when it has applied it (the
// entitlement is then readable), and a cursor it has not reached is applied = false after the
// wait, not an error. A write that changes nothing returns no cursor.
TEST_F(RegisterSyncTest, AWriteReturnsItsCursorAndTheRegisterSaysWhenItHasAppliedIt) {
  const std::string nhs = NextNhsNumber();
  const std::string cursor = DetainAndDischarge(nhs, 200, 150);
  ASSERT_TRUE(DecodeCursor(cursor).ok()) << cursor;
  const icr::v1::Entitlement e = Applied(nhs, cursor);
  EXPECT_EQ(e.state(), "ACTIVE");
  EXPECT_EQ(e.left_hospital_date(), Day(150));

  // Any role may ask (no person data); the applied cursor is at or beyond the write's.
  icr::v1::FeedPosition pos;
  ASSERT_TRUE(Position(stack.Token(kLeeds, "performance_analyst"), cursor, 0, &pos).ok());
  EXPECT_TRUE(pos.applied());
  EXPECT_FALSE(CursorBefore(*DecodeCursor(pos.applied_cursor()), *DecodeCursor(cursor)));
  ASSERT_TRUE(Position(stack.Token(kLeeds, "performance_analyst"), "", 0, &pos).ok());
  EXPECT_TRUE(pos.applied());
  EXPECT_FALSE(pos.applied_cursor().empty());

  // The same events again change nothing: no cursor.
  icr::v1::RecordEventsResponse again;
  ASSERT_TRUE(Send(trust,
                   {build::DetentionEnd(nhs, "end-" + nhs, "D-" + nhs, At(150), "discharged by RC"),
                    build::Discharge(nhs, "dis-" + nhs, "S-" + nhs, At(150))},
                   &again)
                  .ok());
  EXPECT_EQ(again.outcomes(0).result(), icr::v1::EventOutcome::DUPLICATE);
  EXPECT_EQ(again.change_cursor(), "");

  // Far in the future: not applied after about the wait asked for.
  const auto start = std::chrono::steady_clock::now();
  auto s = Position(trust, "c1.9999999999999999.0", 300, &pos);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(pos.applied());
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::milliseconds(3000));

  // Bad requests name the field.
  s = Position(trust, cursor, 30001, &pos);
  EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("wait_ms:", 0), 0u) << s.error_message();
  s = Position(trust, cursor, -1, &pos);
  EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT);
  s = Position(trust, "c1.12x.3", 0, &pos);
  EXPECT_EQ(s.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("cursor:", 0), 0u) << s.error_message();
}

// ImportEvents returns the cursor of its last change in the summary.
TEST_F(RegisterSyncTest, AnImportReturnsTheCursorOfItsLastChange) {
  const std::string nhs = NextNhsNumber();
  std::vector<icr::v1::ImportItem> items(2);
  *items[0].mutable_person() = MakePerson(nhs);
  *items[1].mutable_event() = build::Admission(nhs, "imp-adm-" + nhs, "IS-" + nhs, kTrust, At(20));
  icr::v1::ImportSummary summary;
  {
    auto ctx = Ctx(trust);
    auto stream = stack.record()->ImportEvents(ctx.get(), &summary);
    for (const auto& item : items) ASSERT_TRUE(stream->Write(item));
    stream->WritesDone();
    auto s = stream->Finish();
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(summary.stored(), 2);
  ASSERT_TRUE(DecodeCursor(summary.change_cursor()).ok());
  EXPECT_FALSE(summary.change_cursor().empty());
  const auto c = *DecodeCursor(summary.change_cursor());
  EXPECT_EQ(stack.Scalar("SELECT entity || '/' || change_type FROM core.changes WHERE txid = '" +
                         c.txid + "' AND seq = " + std::to_string(c.seq)),
            stack.Scalar("SELECT entity || '/' || change_type FROM core.changes WHERE person_id = "
                         "(SELECT person_id FROM core.person WHERE nhs_number = '" +
                         nhs + "') ORDER BY txid DESC, seq DESC LIMIT 1"));
}

// One person of each reachable kind, and a clean one with none; who may ask; the audit.
TEST_F(RegisterSyncTest, ReconciliationFindsWhatTheRegisterAndTheRecordDisagreeOn) {
  // Clean: detained and discharged through the feed, entitled.
  const std::string clean = NextNhsNumber();
  Applied(clean, DetainAndDischarge(clean, 300, 250));

  // Discharged without an entitlement: the feed's entitlement was then voided.
  const std::string voided = NextNhsNumber();
  {
    const icr::v1::Entitlement e = Applied(voided, DetainAndDischarge(voided, 280, 240));
    icr::v1::RecordInErrorRequest req;
    req.set_entitlement_id(e.entitlement_id());
    req.set_expected_version(e.version());
    req.set_reason("voided in error during the migration");
    icr::v1::Entitlement out;
    auto s = s117()->RecordInError(Ctx(officer).get(), req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(out.state(), "VOID");
  }

  // An entitlement with no qualifying detention in the record: opened by hand.
  const std::string by_hand = NextNhsNumber();
  std::string by_hand_id;
  {
    SeedPerson(kTrust, by_hand);
    icr::v1::OpenEntitlementRequest r;
    r.set_nhs_number(by_hand);
    r.set_legal_status_code("03");
    r.set_detention_start_date(Day(80));
    r.set_detaining_provider_code(kTrust);
    r.set_state("ACTIVE");
    r.set_ceased_detained_date(Day(30));
    r.set_left_hospital_date(Day(30));
    r.mutable_council()->set_code(kLeeds);
    r.mutable_council()->set_basis("OR_ENGLAND_S117_3A");
    r.mutable_council()->set_evidence("tenancy in the borough before admission");
    r.mutable_icb()->set_code(kLeedsIcb);
    r.mutable_icb()->set_basis("CORE_GP_REGISTRATION");
    r.set_reason("carried over from the council's spreadsheet register");
    icr::v1::Entitlement e;
    auto s = s117()->OpenEntitlement(Ctx(officer).get(), r, &e);
    ASSERT_TRUE(s.ok()) << s.error_message();
    by_hand_id = e.entitlement_id();
  }

  // Charged while entitled: a Care Act line for a need arising from the mental disorder, with a
  // client contribution of £1,012.50 a week.
  const std::string charged = NextNhsNumber();
  std::string charged_id, line_id;
  {
    const icr::v1::Entitlement e = Applied(charged, DetainAndDischarge(charged, 260, 200));
    charged_id = e.entitlement_id();
    icr::v1::AddAftercareServiceRequest req;
    req.set_entitlement_id(e.entitlement_id());
    req.set_expected_version(e.version());
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        R"pb(service_type: "HOME_CARE"
             description: "Evening calls"
             provider_name: "Leeds Home Support"
             need_ref: "need-2"
             need_arises_from_mental_disorder: true
             is_s117: false
             funder: "COUNCIL"
             council_pct: 100
             icb_pct: 0
             weekly_cost_pence: 150000
             client_contribution_pence: 101250
             delivery_mode: "COMMISSIONED")pb",
        req.mutable_service()));
    req.mutable_service()->set_start_date(Day(100));
    icr::v1::AddAftercareServiceResponse resp;
    auto s = s117()->AddAftercareService(Ctx(officer).get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    line_id = resp.service_line_id();
  }

  const std::string before_audit = stack.Scalar(
      "SELECT count(*) FROM core.audit WHERE action = 'ReconcileRegister' AND person_id = '" +
      PersonId(by_hand) + "'");
  grpc::Status status;
  const auto all = Reconcile(officer, "", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();

  EXPECT_TRUE(Of(all, clean).empty()) << Of(all, clean).begin()->second.DebugString();

  auto v = Of(all, voided);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v.begin()->first, "DISCHARGED_WITHOUT_ENTITLEMENT");
  EXPECT_EQ(v.begin()->second.entitlement_id(), "");
  EXPECT_EQ(v.begin()->second.detail(), "detained under 03 from " + Day(280) + " by RGD, " +
                                            "discharged by RGD on " + Day(240) +
                                            "; no entitlement");

  auto h = Of(all, by_hand);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.begin()->first, "ENTITLEMENT_WITHOUT_DETENTION");
  EXPECT_EQ(h.begin()->second.entitlement_id(), by_hand_id);
  EXPECT_NE(h.begin()->second.detail().find("detained from " + Day(80)), std::string::npos)
      << h.begin()->second.detail();

  auto c = Of(all, charged);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c.begin()->first, "CHARGED_WHILE_ENTITLED");
  EXPECT_EQ(c.begin()->second.entitlement_id(), charged_id);
  EXPECT_EQ(c.begin()->second.detail(), "service line " + line_id + " (HOME_CARE) from " +
                                            Day(100) +
                                            ": client contribution \u00a31,012.50 a week");

  // Nothing names a person; one audited read per person reported.
  for (const auto& f : all) {
    EXPECT_EQ(f.detail().find("Testperson"), std::string::npos) << f.detail();
  }
  EXPECT_EQ(std::stoi(stack.Scalar("SELECT count(*) FROM core.audit WHERE action = "
                                   "'ReconcileRegister' AND person_id = '" +
                                   PersonId(by_hand) + "'")),
            std::stoi(before_audit) + 1);

  // As of a year ago the line had not started and the voided person was not yet discharged.
  const auto year_ago = Reconcile(officer, Day(365), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(Of(year_ago, voided).empty());
  EXPECT_TRUE(Of(year_ago, charged).empty());

  // The ICB sees the entitlements it is responsible for.
  const auto icb = Reconcile(stack.Token(kLeedsIcb, "admin"), "", &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Of(icb, by_hand).size(), 1u);
  EXPECT_EQ(Of(icb, charged).size(), 1u);

  // Who may ask: other roles are refused by the policy table; a trust has no register.
  Reconcile(stack.Token(kLeeds, "social_worker"), "", &status);
  EXPECT_EQ(status.error_code(), Code::PERMISSION_DENIED);
  Reconcile(stack.Token(kTrust, "s117_officer"), "", &status);
  EXPECT_EQ(status.error_code(), Code::FAILED_PRECONDITION);
  Reconcile(officer, "2026-02-30", &status);
  EXPECT_EQ(status.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("as_of:", 0), 0u) << status.error_message();
}

}  // namespace
}  // namespace icr::test
