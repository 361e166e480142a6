// RecordService through a real gRPC channel against real PostgreSQL: people, events, bad input,
// idempotency, audit of every read, bulk import.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <thread>
#include <vector>

#include "services/record/import_lanes.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {
using icr::record::ImportLanes;

constexpr char kTrust[] = "RGD";  // Leeds and York Partnership NHS FT

std::string Count(const std::string& table, const std::string& person_id) {
  return Stack::Get().Scalar("SELECT count(*) FROM " + table + " WHERE person_id = '" +
                             person_id + "'");
}

std::string AuditCount(const std::string& person_id, const std::string& action) {
  return Stack::Get().Scalar("SELECT count(*) FROM core.audit WHERE person_id = '" + person_id +
                             "' AND action = '" + action + "'");
}

// Streams the items to ImportEvents as one client would; returns the call's status.
grpc::Status Import(const std::string& token, const std::vector<icr::v1::ImportItem>& items,
                    icr::v1::ImportSummary* summary) {
  auto ctx = Ctx(token);
  auto stream = Stack::Get().record()->ImportEvents(ctx.get(), summary);
  for (const auto& item : items) {
    if (!stream->Write(item)) break;
  }
  stream->WritesDone();
  return stream->Finish();
}

// 'a','b',... for an SQL IN list.
std::string InList(const std::vector<std::string>& values) {
  std::string in;
  for (const auto& v : values) in += (in.empty() ? "'" : ",'") + v + "'";
  return in;
}

// The test's events (tests/support/builders.h); event ids are unique per sending organisation.
icr::v1::Event Admission(const std::string& nhs, const std::string& id, const std::string& spell,
                         int64_t at) {
  return build::Admission(nhs, nhs + "/" + id, nhs + "/" + spell, kTrust, at);
}

icr::v1::Event Discharge(const std::string& nhs, const std::string& id, const std::string& spell,
                         int64_t at) {
  return build::Discharge(nhs, nhs + "/" + id, nhs + "/" + spell, at);
}

icr::v1::Event Detention(const std::string& nhs, const std::string& id, const std::string& code,
                         int64_t at) {
  return build::DetentionStart(nhs, nhs + "/" + id, nhs + "/D-" + id, code, kTrust, at);
}

icr::v1::Event Referral(const std::string& nhs, const std::string& id, const std::string& ref) {
  return build::ReferralOpened(nhs, nhs + "/" + id, nhs + "/" + ref, kTrust, "2025-03-01");
}

constexpr int64_t kJan2026 = 1767225600;  // 2026-01-01T00:00:00Z
constexpr int64_t kDay = 86400;

class RecordTest : public ::testing::Test {
 protected:
  Stack& stack = Stack::Get();
  std::string token = stack.Token(kTrust, "system");
};

TEST_F(RecordTest, UpsertGetAndVersioning) {
  const std::string nhs = NextNhsNumber();
  auto created = SeedPerson(kTrust, nhs);
  EXPECT_EQ(created.version(), 1);
  EXPECT_FALSE(created.person_id().empty());
  EXPECT_NE(created.person_id(), nhs);

  icr::v1::GetPersonRequest get;
  get.set_nhs_number(nhs.substr(0, 3) + " " + nhs.substr(3, 3) + " " + nhs.substr(6));
  icr::v1::Person read;
  ASSERT_TRUE(stack.record()->GetPerson(Ctx(token).get(), get, &read).ok());
  EXPECT_EQ(read.family_name(), "Testperson");
  EXPECT_EQ(read.council_code(), "E08000035");

  icr::v1::UpsertPersonRequest update;
  *update.mutable_person() = MakePerson(nhs);
  update.mutable_person()->set_postcode("ls2 9jt");
  update.set_expected_version(1);
  icr::v1::Person updated;
  // Demographics change by an organisation with a care relationship: here the person's council
  // (registering them gives the trust sight, not the right to change them).
  const std::string council = stack.Token("E08000035", "social_worker");
  ASSERT_TRUE(stack.record()->UpsertPerson(Ctx(council).get(), update, &updated).ok());
  EXPECT_EQ(updated.version(), 2);
  EXPECT_EQ(updated.postcode(), "LS2 9JT");

  // Sending the same person again changes nothing: same version, no new change row.
  const std::string feed_rows = "SELECT count(*) FROM core.changes WHERE entity = 'person' AND "
                                "person_id = '" + updated.person_id() + "'";
  const std::string rows_before = stack.Scalar(feed_rows);
  update.set_expected_version(0);
  icr::v1::Person same;
  ASSERT_TRUE(stack.record()->UpsertPerson(Ctx(token).get(), update, &same).ok());
  EXPECT_EQ(same.version(), 2);
  EXPECT_EQ(stack.Scalar(feed_rows), rows_before);
  update.set_expected_version(1);

  // The same expected_version again is stale now: ABORTED, and nothing changes.
  update.mutable_person()->set_postcode("LS3 1AA");
  auto stale = stack.record()->UpsertPerson(Ctx(council).get(), update, &updated);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(stack.Scalar("SELECT postcode FROM core.person WHERE nhs_number = '" + nhs + "'"),
            "LS2 9JT");
}

// A person and its local identifiers are written in one statement: the person returned has every
// identifier recorded (those sent before too), and an identifier of someone else refuses the
// whole upsert.
TEST_F(RecordTest, LocalIdentifiersAreAddedAndNeverTakenFromAnotherPerson) {
  const std::string nhs = NextNhsNumber(), other = NextNhsNumber();
  auto upsert = [&](const std::string& who, const std::vector<std::string>& values,
                    icr::v1::Person* out) {
    icr::v1::UpsertPersonRequest req;
    *req.mutable_person() = MakePerson(who);
    for (const auto& v : values) {
      auto* id = req.mutable_person()->add_local_identifiers();
      id->set_system("RGD:mrn");
      id->set_value(v);
    }
    return stack.record()->UpsertPerson(Ctx(token).get(), req, out);
  };
  icr::v1::Person first, second, same, refused;
  ASSERT_TRUE(upsert(nhs, {"B-" + nhs}, &first).ok());
  EXPECT_EQ(first.version(), 1);
  ASSERT_EQ(first.local_identifiers_size(), 1);
  // A second identifier: both come back, in order; the demographics did not change.
  ASSERT_TRUE(upsert(nhs, {"A-" + nhs}, &second).ok());
  EXPECT_EQ(second.person_id(), first.person_id());
  EXPECT_EQ(second.version(), 1);
  ASSERT_EQ(second.local_identifiers_size(), 2);
  EXPECT_EQ(second.local_identifiers(0).value(), "A-" + nhs);
  EXPECT_EQ(second.local_identifiers(1).value(), "B-" + nhs);
  const std::string person_changes = "SELECT count(*) FROM core.changes WHERE entity = 'person' "
                                     "AND person_id = '" + first.person_id() + "'";
  EXPECT_EQ(stack.Scalar(person_changes), "2");  // created, then updated (an identifier)
  // The same again: nothing new.
  ASSERT_TRUE(upsert(nhs, {"A-" + nhs, "B-" + nhs}, &same).ok());
  EXPECT_EQ(same.local_identifiers_size(), 2);
  EXPECT_EQ(stack.Scalar(person_changes), "2");
  // Someone else with one of these identifiers: refused, naming it, and not created.
  auto s = upsert(other, {"C-" + other, "B-" + nhs}, &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
  EXPECT_EQ(s.error_message().rfind("person.local_identifiers[1]:", 0), 0u) << s.error_message();
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.person WHERE nhs_number = '" + other + "'"),
            "0");
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.person_identifier WHERE value = 'C-" + other +
                         "'"),
            "0");
}

TEST_F(RecordTest, BadPersonInputIsRefusedNamingTheField) {
  struct Case {
    std::function<void(icr::v1::Person&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& p) { p.set_nhs_number("9990000019"); }, "person.nhs_number"},
      {[](auto& p) { p.set_nhs_number("999000001"); }, "person.nhs_number"},
      {[](auto& p) { p.set_date_of_birth("2999-01-01"); }, "person.date_of_birth"},
      {[](auto& p) { p.set_ethnic_category("T"); }, "person.ethnic_category"},
      {[](auto& p) { p.set_council_code("E07000008"); }, "person.council_code"},
      {[](auto& p) { p.set_council_code("E12000001"); }, "person.council_code"},
      {[](auto& p) { p.set_icb_code("QZZ"); }, "person.icb_code"},
  };
  const std::string before = stack.Scalar("SELECT count(*) FROM core.person");
  for (const auto& c : cases) {
    icr::v1::UpsertPersonRequest req;
    *req.mutable_person() = MakePerson(NextNhsNumber());
    c.mutate(*req.mutable_person());
    icr::v1::Person out;
    auto s = stack.record()->UpsertPerson(Ctx(token).get(), req, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_EQ(s.error_message().rfind(c.field + ":", 0), 0u) << s.error_message();
  }
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.person"), before);
}

TEST_F(RecordTest, BadEventsAreRefusedAndNothingIsWritten) {
  const std::string nhs = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  ASSERT_TRUE(Send(token, {Admission(nhs, "adm-1", "SP1", kJan2026)}).ok());
  const std::string events_before = Count("core.event", person.person_id());

  struct Case {
    std::vector<icr::v1::Event> events;
    grpc::StatusCode code;
    std::string field;
  };
  auto unknown_bed = Admission(nhs, "adm-2", "SP2", kJan2026);
  unknown_bed.mutable_admission()->set_bed_type("299");
  auto unknown_trust = Admission(nhs, "adm-3", "SP3", kJan2026);
  unknown_trust.mutable_admission()->set_provider_code("RZZ");
  auto bad_destination = Discharge(nhs, "dis-x", "SP1", kJan2026 + 3 * kDay);
  bad_destination.mutable_discharge()->set_discharge_destination("77");
  auto bad_nhs = Admission("9990000019", "adm-4", "SP4", kJan2026);
  const std::vector<Case> cases = {
      {{Detention(nhs, "det-1", "11", kJan2026)}, grpc::StatusCode::INVALID_ARGUMENT,
       "events[0].detention_start.legal_status_code"},
      {{unknown_bed}, grpc::StatusCode::INVALID_ARGUMENT, "events[0].admission.bed_type"},
      {{unknown_trust}, grpc::StatusCode::INVALID_ARGUMENT, "events[0].admission.provider_code"},
      {{bad_destination}, grpc::StatusCode::INVALID_ARGUMENT,
       "events[0].discharge.discharge_destination"},
      {{bad_nhs}, grpc::StatusCode::INVALID_ARGUMENT, "events[0].nhs_number"},
      // Discharge before admission: the second event of a valid-looking pair. The stored
      // admission refuses it (architecture.md, Errors: a rule of the domain).
      {{Referral(nhs, "ref-ok", "R-OK"), Discharge(nhs, "dis-1", "SP1", kJan2026 - kDay)},
       grpc::StatusCode::FAILED_PRECONDITION, "events[1].discharge.discharged_at"},
      // Same event id with different content.
      {{Admission(nhs, "adm-1", "SP9", kJan2026)}, grpc::StatusCode::ALREADY_EXISTS,
       "events[0].event_id"},
      // A new event for a stay already recorded, and the same referral twice in one request
      // (episode rows are written together at the end of the request).
      {{Admission(nhs, "adm-again", "SP1", kJan2026)}, grpc::StatusCode::ALREADY_EXISTS,
       "events[0].admission.spell_id"},
      {{Referral(nhs, "ref-a", "R-TWICE"), Referral(nhs, "ref-b", "R-TWICE")},
       grpc::StatusCode::ALREADY_EXISTS, "events[1].referral_opened.referral_id"},
  };
  for (const auto& c : cases) {
    auto s = Send(token, c.events);
    EXPECT_EQ(s.error_code(), c.code) << c.field << " -> " << s.error_message();
    EXPECT_EQ(s.error_message().rfind(c.field + ":", 0), 0u) << s.error_message();
  }
  EXPECT_EQ(Count("core.event", person.person_id()), events_before);
  EXPECT_EQ(Count("core.referral", person.person_id()), "0");  // the good half was rolled back
  EXPECT_EQ(Count("core.hospital_spell", person.person_id()), "1");
}

TEST_F(RecordTest, EventsAfterDeathAreRefused) {
  const std::string nhs = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  const auto death = build::Death(nhs, nhs + "/death-1", "2026-02-01");
  // A death needs a care relationship: an open referral with the trust.
  ASSERT_TRUE(Send(token, {Referral(nhs, "r-care", "REFCARE")}).ok());
  ASSERT_TRUE(Send(token, {death}).ok());
  auto late = Send(token, {Admission(nhs, "adm-late", "SPL", kJan2026 + 40 * kDay)});
  EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(late.error_message().find("after the person's death"), std::string::npos);
  // Before the death is fine.
  EXPECT_TRUE(Send(token, {Admission(nhs, "adm-early", "SPE", kJan2026)}).ok());
}

TEST_F(RecordTest, ResendingTheSameEventChangesNothing) {
  const std::string nhs = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  auto events = {Admission(nhs, "a1", "SPA", kJan2026), Detention(nhs, "d1", "03", kJan2026),
                 Discharge(nhs, "x1", "SPA", kJan2026 + 10 * kDay)};
  icr::v1::RecordEventsResponse first, second;
  ASSERT_TRUE(Send(token, events, &first).ok());
  // The record's own changes (the S117 register follows the feed and adds its own).
  const std::string own_changes = "SELECT count(*) FROM core.changes WHERE person_id = '" +
                                  person.person_id() + "' AND entity NOT LIKE 's117%'";
  const std::string changes = stack.Scalar(own_changes);
  ASSERT_TRUE(Send(token, events, &second).ok());
  ASSERT_EQ(second.outcomes_size(), 3);
  for (const auto& o : first.outcomes()) EXPECT_EQ(o.result(), icr::v1::EventOutcome::STORED);
  for (const auto& o : second.outcomes()) EXPECT_EQ(o.result(), icr::v1::EventOutcome::DUPLICATE);
  EXPECT_EQ(Count("core.event", person.person_id()), "3");
  EXPECT_EQ(Count("core.hospital_spell", person.person_id()), "1");
  EXPECT_EQ(stack.Scalar(own_changes), changes);
}

TEST_F(RecordTest, IntegratedRecordShowsTheWholePicture) {
  const std::string nhs = NextNhsNumber();
  SeedPerson(kTrust, nhs);
  const auto kw = build::KeyWorkerAssigned(
      nhs, nhs + "/kw1", nhs + "/KW1", build::Staff("Alex Morgan", "Care coordinator", "E08000035"),
      "2025-06-01");
  const auto emp_old = build::EmploymentStatus(nhs, nhs + "/emp1", "02", "2025-01-01");
  const auto emp_new = build::EmploymentStatus(nhs, nhs + "/emp2", "01", "2025-09-01");
  const auto acc = build::AccommodationStatus(nhs, nhs + "/acc1", "02", "2025-09-01");
  auto assess = build::CareAct(nhs, nhs + "/ca1", nhs + "/CA1", icr::v1::CareActEvent::ASSESSMENT,
                               "E08000035", "2025-07-01");
  assess.mutable_care_act()->set_outcome("eligible");
  auto sent = Send(token, {Referral(nhs, "r1", "REF1"), Admission(nhs, "a1", "SP1", kJan2026),
                           Detention(nhs, "d1", "03", kJan2026), kw, emp_old, emp_new, acc});
  ASSERT_TRUE(sent.ok()) << sent.error_message();
  // The council records its own assessment (the trust may not name another organisation).
  sent = Send(stack.Token("E08000035", "social_worker"), {assess});
  ASSERT_TRUE(sent.ok()) << sent.error_message();

  icr::v1::GetIntegratedRecordRequest req;
  req.set_nhs_number(nhs);
  icr::v1::IntegratedRecord rec;
  ASSERT_TRUE(stack.record()->GetIntegratedRecord(Ctx(token).get(), req, &rec).ok());
  EXPECT_EQ(rec.person().nhs_number(), nhs);
  ASSERT_EQ(rec.open_referrals_size(), 1);
  EXPECT_EQ(rec.open_referrals(0).referral_id(), nhs + "/REF1");
  EXPECT_EQ(rec.hospital_stay().spell_id(), nhs + "/SP1");
  EXPECT_FALSE(rec.hospital_stay().has_discharged_at());
  EXPECT_EQ(rec.current_detention().legal_status_code(), "03");
  EXPECT_TRUE(rec.current_detention().s117_qualifying());
  EXPECT_EQ(rec.key_worker().key_worker().name(), "Alex Morgan");
  EXPECT_EQ(rec.employment().code(), "01");  // the latest, not the first
  EXPECT_EQ(rec.accommodation().code(), "02");
  ASSERT_EQ(rec.care_act_assessments_size(), 1);
  EXPECT_EQ(rec.care_act_assessments(0).kind(), icr::v1::CareActEvent::ASSESSMENT);
  EXPECT_FALSE(rec.break_glass());
}

// GetIntegratedRecord keeps the record it built, in the store (core.record_body) and in the
// server's memory (RecordCache), and uses either only while the record's version (migration
// 0013: no write to the person, no reference-data change, the same day) is the one it was built
// at; every read, held or not, is checked for visibility and audited.
TEST_F(RecordTest, IntegratedRecordCacheFollowsEveryWrite) {
  const std::string nhs = NextNhsNumber();
  const std::string other_nhs = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  auto other = SeedPerson(kTrust, other_nhs);
  ASSERT_TRUE(Send(token, {Referral(nhs, "r1", "REF1")}).ok());
  icr::v1::GetIntegratedRecordRequest req;
  req.set_nhs_number(nhs);
  auto read = [&](const std::string& tok, const std::map<std::string, std::string>& headers = {}) {
    icr::v1::IntegratedRecord rec;
    auto st = stack.record()->GetIntegratedRecord(Ctx(tok, headers).get(), req, &rec);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return rec;
  };
  const std::string body_of = "SELECT count(*) FROM core.record_body WHERE person_id = '";
  // The first read builds the body and keeps it in the store.
  EXPECT_EQ(read(token).open_referrals_size(), 1);
  EXPECT_EQ(stack.Scalar(body_of + person.person_id() + "'"), "1");

  // A body kept in the store at the current version is served to a server holding none: plant
  // the other person's body under this person's current version, and it is returned.
  icr::v1::GetIntegratedRecordRequest other_req;
  other_req.set_nhs_number(other_nhs);
  icr::v1::IntegratedRecord other_rec;
  ASSERT_TRUE(stack.record()->GetIntegratedRecord(Ctx(token).get(), other_req, &other_rec).ok());
  const std::string other_body =
      "(SELECT body FROM core.record_body WHERE person_id = '" + other.person_id() + "')";
  stack.Scalar("UPDATE core.record_body SET body = " + other_body + " WHERE person_id = '" +
               person.person_id() + "' RETURNING 1");
  // (the server holds this person's own body at the same version, so it still serves that)
  EXPECT_EQ(read(token).person().nhs_number(), nhs);
  // Another server on the same store holds nothing, and serves the store's body.
  auto fresh_server_read = [&] {
    icr::Database db(stack.database_url(), 2);
    icr::HostOptions options;
    options.services = {"record"};
    auto second = icr::Host::Start(db, options);
    EXPECT_TRUE(second.ok()) << second.status();
    if (!second.ok()) return std::string();
    auto stub = icr::v1::RecordService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string((*second)->port()), grpc::InsecureChannelCredentials()));
    icr::v1::IntegratedRecord rec;
    EXPECT_TRUE(stub->GetIntegratedRecord(Ctx(token).get(), req, &rec).ok());
    return rec.person().nhs_number();
  };
  EXPECT_EQ(fresh_server_read(), other_nhs);
  // A body kept under another version (as one from another day) is not used.
  stack.Scalar("UPDATE core.record_body SET version = version || 'x' WHERE person_id = '" +
               person.person_id() + "' RETURNING 1");
  EXPECT_EQ(fresh_server_read(), nhs);

  // A write through the service: the next read shows it.
  const auto emp = build::EmploymentStatus(nhs, nhs + "/emp1", "01", "2025-09-01");
  ASSERT_TRUE(Send(token, {emp}).ok());
  EXPECT_EQ(read(token).employment().code(), "01");
  // A write by any other path (here plain SQL, as another service would) stamps the person too.
  stack.Scalar("UPDATE core.referral SET closed_date = current_date WHERE person_id = '" +
               person.person_id() + "' RETURNING 1");
  EXPECT_EQ(read(token).open_referrals_size(), 0);
  // Reference data shown in records (code descriptions) empties the store's bodies and moves
  // every version on, so bodies held in memory are not served either.
  const std::string description = read(token).employment().description();
  EXPECT_FALSE(description.empty());
  EXPECT_NE(stack.Scalar(body_of + person.person_id() + "'"), "0");
  const std::string set_description =
      "UPDATE core.code_list SET description = $$DESC$$ WHERE list_name = 'employment_status' "
      "AND code = '01' RETURNING 1";
  auto with = [&](std::string sql, const std::string& text) {
    return sql.replace(sql.find("DESC"), 4, text);
  };
  stack.Scalar(with(set_description, "Employed (renamed by the test)"));
  EXPECT_EQ(stack.Scalar(body_of + person.person_id() + "'"), "0");
  EXPECT_EQ(read(token).employment().description(), "Employed (renamed by the test)");
  stack.Scalar(with(set_description, description));
  EXPECT_EQ(read(token).employment().description(), description);

  // Cached or not, another organisation without a relationship is refused and audited as
  // denied; with a break-glass reason it reads, audited with the reason.
  EXPECT_EQ(read(token).employment().code(), "01");  // held again
  const auto stranger = stack.Token("RX4", "clinician");
  icr::v1::IntegratedRecord refused;
  EXPECT_EQ(stack.record()->GetIntegratedRecord(Ctx(stranger).get(), req, &refused).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(refused.has_person());
  auto glass = read(stranger, {{"x-break-glass-reason", "crisis team in A&E"}});
  EXPECT_TRUE(glass.break_glass());
  EXPECT_EQ(glass.person().nhs_number(), nhs);
  EXPECT_FALSE(read(token).break_glass());  // the flag is not cached
  // The refusal the server remembers for RX4 holds only while the record's version does: a
  // relationship written by any path (here plain SQL) moves it on, and RX4 now reads.
  stack.Scalar("INSERT INTO core.relationship (person_id, org_code, kind) VALUES ('" +
               person.person_id() + "', 'RX4', 'recorded') RETURNING 1");
  auto now_visible = read(stranger);
  EXPECT_FALSE(now_visible.break_glass());
  EXPECT_EQ(now_visible.person().nhs_number(), nhs);
  std::string expected;
  for (int i = 0; i < 10; ++i) expected += "RGD:ok:,";
  expected += "RX4:denied:,RX4:ok:crisis team in A&E,RGD:ok:,RX4:ok:";
  EXPECT_EQ(stack.Scalar("SELECT string_agg(org_code || ':' || outcome || ':' || "
                         "break_glass_reason, ',' ORDER BY audit_pk) FROM core.audit WHERE "
                         "action = 'GetIntegratedRecord' AND person_id = '" +
                         person.person_id() + "'"),
            expected);
}

// Concurrent reads are served in shared batches (RecordReader): every call gets its own
// person's record or its own refusal, never another call's, and each is audited once with its
// own organisation and outcome.
TEST_F(RecordTest, ConcurrentReadsEachGetTheirOwnAnswerAndAuditRow) {
  constexpr int kPeople = 6, kThreads = 12, kReadsPerThread = 25;
  std::vector<std::string> nhs, ids;
  for (int i = 0; i < kPeople; ++i) {
    nhs.push_back(NextNhsNumber());
    ids.push_back(SeedPerson(kTrust, nhs.back()).person_id());
  }
  const auto clinician = stack.Token(kTrust, "clinician");
  const auto stranger = stack.Token("RX4", "clinician");  // no relationship with anyone here
  // Expected, per person: reads by the trust (ok) and by the stranger (denied).
  std::vector<std::atomic<int>> ok(kPeople), denied(kPeople);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto stub = stack.record();
      for (int i = 0; i < kReadsPerThread; ++i) {
        const int who = (t * 7 + i * 5) % kPeople;
        const bool refused = (t + i) % 3 == 0;
        icr::v1::GetIntegratedRecordRequest req;
        req.set_nhs_number(nhs[who]);
        icr::v1::IntegratedRecord rec;
        auto s = stub->GetIntegratedRecord(Ctx(refused ? stranger : clinician).get(), req, &rec);
        if (refused) {
          if (s.error_code() != grpc::StatusCode::NOT_FOUND || rec.has_person()) ++wrong;
          ++denied[who];
        } else {
          if (!s.ok() || rec.person().nhs_number() != nhs[who]) ++wrong;
          ++ok[who];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  for (int i = 0; i < kPeople; ++i) {
    const std::string q = "SELECT count(*) FROM core.audit WHERE action = 'GetIntegratedRecord' "
                          "AND person_id = '" + ids[i] + "' AND ";
    EXPECT_EQ(stack.Scalar(q + "org_code = 'RGD' AND outcome = 'ok'"), std::to_string(ok[i]));
    EXPECT_EQ(stack.Scalar(q + "org_code = 'RX4' AND outcome = 'denied'"),
              std::to_string(denied[i]));
    EXPECT_EQ(stack.Scalar(q + "true"), std::to_string(ok[i] + denied[i]));
  }
}

TEST_F(RecordTest, EveryReadIsAudited) {
  const std::string nhs = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  const auto reader = stack.Token(kTrust, "clinician");
  icr::v1::GetPersonRequest get;
  get.set_nhs_number(nhs);
  icr::v1::Person p;
  for (int i = 0; i < 3; ++i) {
    auto ctx = Ctx(reader, {{"x-purpose-of-use", "direct_care"}, {"x-request-id", "req-" + std::to_string(i)}});
    ASSERT_TRUE(stack.record()->GetPerson(ctx.get(), get, &p).ok());
  }
  EXPECT_EQ(AuditCount(person.person_id(), "GetPerson"), "3");
  icr::v1::GetIntegratedRecordRequest rec_req;
  rec_req.set_nhs_number(nhs);
  icr::v1::IntegratedRecord rec;
  ASSERT_TRUE(stack.record()->GetIntegratedRecord(Ctx(reader).get(), rec_req, &rec).ok());
  EXPECT_EQ(AuditCount(person.person_id(), "GetIntegratedRecord"), "1");
  icr::v1::FindPeopleRequest find;
  find.mutable_name_and_birth()->set_family_name("TESTPERSON");
  find.mutable_name_and_birth()->set_date_of_birth("1980-05-17");
  icr::v1::FindPeopleResponse found;
  ASSERT_TRUE(stack.record()->FindPeople(Ctx(reader).get(), find, &found).ok());
  EXPECT_GE(found.people_size(), 1);
  EXPECT_EQ(AuditCount(person.person_id(), "FindPeople"), "1");

  // The trail shows who read, in what role and why; reading it is audited too.
  icr::v1::GetAuditTrailRequest trail_req;
  trail_req.set_nhs_number(nhs);
  icr::v1::AuditTrail trail;
  ASSERT_TRUE(stack.record()->GetAuditTrail(Ctx(reader).get(), trail_req, &trail).ok());
  int reads = 0;
  for (const auto& e : trail.entries()) {
    if (e.action() == "GetPerson") {
      ++reads;
      EXPECT_EQ(e.role(), "clinician");
      EXPECT_EQ(e.organisation_code(), kTrust);
      EXPECT_EQ(e.purpose_of_use(), "direct_care");
      EXPECT_EQ(e.request_id().rfind("req-", 0), 0u);
    }
  }
  EXPECT_EQ(reads, 3);
  // Reading the trail is audited too: the next read shows it.
  icr::v1::AuditTrail again;
  ASSERT_TRUE(stack.record()->GetAuditTrail(Ctx(reader).get(), trail_req, &again).ok());
  EXPECT_EQ(again.entries(0).action(), "GetAuditTrail");
  // The audit table is append-only.
  EXPECT_THROW(stack.Scalar("DELETE FROM core.audit WHERE person_id = '" + person.person_id() +
                            "' RETURNING 1"),
               std::exception);
}

TEST_F(RecordTest, FindPeopleByIdentifierAndPostcodeWithPaging) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    icr::v1::UpsertPersonRequest req;
    *req.mutable_person() = MakePerson(NextNhsNumber());
    req.mutable_person()->set_postcode("ZZ9 9ZZ");
    auto* id = req.mutable_person()->add_local_identifiers();
    id->set_system("RGD:test");
    id->set_value("MRN" + std::to_string(i) + "-" + req.person().nhs_number());
    icr::v1::Person out;
    ASSERT_TRUE(stack.record()->UpsertPerson(Ctx(token).get(), req, &out).ok());
    ids.push_back(id->value());
  }
  icr::v1::FindPeopleRequest by_id;
  by_id.mutable_local_identifier()->set_system("RGD:test");
  by_id.mutable_local_identifier()->set_value(ids[1]);
  icr::v1::FindPeopleResponse found;
  ASSERT_TRUE(stack.record()->FindPeople(Ctx(token).get(), by_id, &found).ok());
  ASSERT_EQ(found.people_size(), 1);
  EXPECT_EQ(found.people(0).local_identifiers(0).value(), ids[1]);

  icr::v1::FindPeopleRequest by_pc;
  by_pc.set_postcode("zz9 9zz");
  by_pc.mutable_page()->set_page_size(2);
  std::set<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    icr::v1::FindPeopleResponse resp;
    ASSERT_TRUE(stack.record()->FindPeople(Ctx(token).get(), by_pc, &resp).ok());
    for (const auto& p : resp.people()) EXPECT_TRUE(seen.insert(p.person_id()).second);
    if (resp.page().next_page_token().empty()) break;
    by_pc.mutable_page()->set_page_token(resp.page().next_page_token());
  }
  EXPECT_EQ(seen.size(), 3u);
}

TEST_F(RecordTest, ImportStoresValidItemsAndReportsBadOnes) {
  auto writer = stack.record();
  icr::v1::ImportSummary summary;
  auto ctx = Ctx(token);
  auto stream = writer->ImportEvents(ctx.get(), &summary);
  const std::string good = NextNhsNumber();
  icr::v1::ImportItem item;
  *item.mutable_person() = MakePerson(good);
  ASSERT_TRUE(stream->Write(item));
  *item.mutable_event() = Admission(good, "imp-1", "IMP1", kJan2026);
  ASSERT_TRUE(stream->Write(item));
  *item.mutable_event() = Admission(good, "imp-2", "IMP2", kJan2026);
  item.mutable_event()->mutable_admission()->set_bed_type("bad");
  ASSERT_TRUE(stream->Write(item));  // invalid: rejected alone
  *item.mutable_event() = Discharge(good, "imp-3", "NOSUCH", kJan2026);
  ASSERT_TRUE(stream->Write(item));  // refers to an unknown spell: rejected alone
  *item.mutable_event() = Discharge(good, "imp-4", "IMP1", kJan2026 + 2 * kDay);
  ASSERT_TRUE(stream->Write(item));
  *item.mutable_event() = Admission(good, "imp-1", "IMP1", kJan2026);
  ASSERT_TRUE(stream->Write(item));  // a resend: duplicate
  *item.mutable_event() = Admission(good, "imp-5", "IMP1", kJan2026);
  ASSERT_TRUE(stream->Write(item));  // another event for the same stay: rejected alone
  stream->WritesDone();
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(summary.received(), 7);
  EXPECT_EQ(summary.stored(), 3);
  EXPECT_EQ(summary.duplicates(), 1);
  EXPECT_EQ(summary.rejected(), 3);
  ASSERT_EQ(summary.rejections_size(), 3);
  EXPECT_EQ(summary.rejections(2).index(), 6);
  EXPECT_EQ(summary.rejections(2).code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(summary.rejections(0).index(), 2);
  EXPECT_EQ(summary.rejections(0).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(summary.rejections(1).index(), 3);
  EXPECT_EQ(summary.rejections(1).code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.hospital_spell s JOIN core.person p USING "
                         "(person_id) WHERE p.nhs_number = '" + good +
                         "' AND s.discharged_at IS NOT NULL"),
            "1");
  // One batch wrote for one person: one audit row for it, and the importer's relationship.
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.audit a JOIN core.person p USING (person_id) "
                         "WHERE p.nhs_number = '" + good + "' AND a.action = 'ImportEvents' "
                         "AND a.outcome = 'ok' AND a.org_code = 'RGD'"),
            "1");
  EXPECT_EQ(stack.Scalar("SELECT string_agg(r.kind, ',' ORDER BY r.kind) FROM core.relationship r "
                         "JOIN core.person p USING (person_id) WHERE p.nhs_number = '" + good +
                         "' AND r.org_code = 'RGD'"),
            "hospital_stay,recorded,registered");
}

// Out-of-range input is bad input naming its field (never another refusal) and writes nothing:
// an enum number the proto does not define, money above £1,000,000 a week, a version beyond any
// stored one. In an import such an item is refused alone, with the same status and field.
TEST_F(RecordTest, OutOfRangeInputIsInvalidArgumentNamingTheField) {
  const std::string nhs = NextNhsNumber();
  const auto person = SeedPerson(kTrust, nhs);
  // Care Act events are the council's own.
  const std::string council = stack.Token("E08000035", "social_worker");
  auto care_act = [&](const std::string& id) {
    auto e = build::CareAct(nhs, nhs + "/" + id, nhs + "/CA-" + id, icr::v1::CareActEvent::SERVICE,
                            "E08000035", "2025-06-01");
    e.mutable_care_act()->set_service_type("Long term support: Community");
    e.mutable_care_act()->set_weekly_cost_pence(42000);
    return e;
  };
  auto unknown_kind = care_act("kind");
  unknown_kind.mutable_care_act()->set_kind(static_cast<icr::v1::CareActEvent::Kind>(9));
  auto costly = care_act("cost");
  costly.mutable_care_act()->set_weekly_cost_pence(INT64_MAX);
  auto over_a_million = care_act("million");
  over_a_million.mutable_care_act()->set_weekly_cost_pence(100'000'001);
  const std::vector<std::pair<icr::v1::Event, std::string>> events = {
      {unknown_kind, "care_act.kind"},
      {costly, "care_act.weekly_cost_pence"},
      {over_a_million, "care_act.weekly_cost_pence"},
  };
  for (const auto& [event, field] : events) {
    auto s = Send(council, {care_act("ok"), event});
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << field << ": " << s.error_message();
    EXPECT_EQ(s.error_message().rfind("events[1]." + field + ":", 0), 0u) << s.error_message();
  }
  icr::v1::UpsertPersonRequest upsert;
  *upsert.mutable_person() = MakePerson(nhs);
  upsert.mutable_person()->set_given_name("Changed");
  upsert.set_expected_version(int64_t{1} << 31);
  icr::v1::Person out;
  auto s = stack.record()->UpsertPerson(Ctx(token).get(), upsert, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_EQ(s.error_message().rfind("expected_version:", 0), 0u) << s.error_message();
  EXPECT_EQ(Count("core.event", person.person_id()), "0");
  EXPECT_EQ(Count("core.social_care_event", person.person_id()), "0");
  EXPECT_EQ(stack.Scalar("SELECT given_name || version FROM core.person WHERE person_id = '" +
                         person.person_id() + "'"),
            "Sam1");

  std::vector<icr::v1::ImportItem> items(events.size() + 1);
  for (size_t i = 0; i < events.size(); ++i) *items[i].mutable_event() = events[i].first;
  *items.back().mutable_event() = care_act("imported");
  icr::v1::ImportSummary summary;
  ASSERT_TRUE(Import(council, items, &summary).ok());
  EXPECT_EQ(summary.stored(), 1);
  ASSERT_EQ(summary.rejections_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(summary.rejections(i).code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(summary.rejections(i).message().rfind("event." + events[i].second + ":", 0), 0u)
        << summary.rejections(i).message();
  }
}

// A mixed stream (~125 items, both lanes): valid people and events, a person whose local
// identifier names someone else, a person the database itself refuses (a trigger stands in for
// any error a statement may raise), events for people not stored, resent events, and invalid
// items. Each refused item leaves nothing (not even the refused people's rows, so their events
// find no one); every valid item is stored and counted, and the stream ends OK.
TEST_F(RecordTest, ImportRefusesBadItemsAloneInAMixedStream) {
  const std::string owner_nhs = NextNhsNumber();
  icr::v1::UpsertPersonRequest owner_req;
  *owner_req.mutable_person() = MakePerson(owner_nhs);
  auto* owned = owner_req.mutable_person()->add_local_identifiers();
  owned->set_system("RGD:mrn");
  owned->set_value("OWN-" + owner_nhs);
  icr::v1::Person owner;
  ASSERT_TRUE(stack.record()->UpsertPerson(Ctx(token).get(), owner_req, &owner).ok());
  const auto stored_before = Referral(owner_nhs, "mixed-pre", "PRE");
  ASSERT_TRUE(Send(token, {stored_before}).ok());
  stack.Scalar(
      "CREATE OR REPLACE FUNCTION test_refuse_person() RETURNS trigger LANGUAGE plpgsql AS $$ "
      "BEGIN "
      "IF NEW.family_name = 'Refusedbydb' THEN RAISE EXCEPTION 'refused' USING ERRCODE = "
      "'check_violation'; END IF; RETURN NEW; END $$");
  stack.Scalar(
      "CREATE TRIGGER test_refuse BEFORE INSERT ON core.person FOR EACH ROW EXECUTE "
      "FUNCTION test_refuse_person()");

  std::vector<icr::v1::ImportItem> items;
  std::map<int, grpc::StatusCode> refused;  // by index
  auto add_person = [&](const icr::v1::Person& p) { *items.emplace_back().mutable_person() = p; };
  auto add_event = [&](const icr::v1::Event& e) { *items.emplace_back().mutable_event() = e; };
  auto refuse = [&](grpc::StatusCode code) { refused[static_cast<int>(items.size()) - 1] = code; };
  std::vector<std::string> people;
  for (int i = 0; i < 40; ++i) people.push_back(NextNhsNumber());
  const std::string taker = NextNhsNumber(), refused_by_db = NextNhsNumber();
  for (int i = 0; i < 40; ++i) {
    add_person(MakePerson(people[i]));
    if (i == 5) {  // someone else's identifier: refused, and not stored
      auto p = MakePerson(taker);
      auto* id = p.add_local_identifiers();
      id->set_system("RGD:mrn");
      id->set_value("OWN-" + owner_nhs);
      add_person(p);
      refuse(grpc::StatusCode::ALREADY_EXISTS);
    }
    if (i == 6) {
      auto p = MakePerson(refused_by_db);
      p.set_family_name("Refusedbydb");
      add_person(p);
      refuse(grpc::StatusCode::FAILED_PRECONDITION);
    }
  }
  for (int i = 0; i < 40; ++i) add_event(Referral(people[i], "mixed-ref", "REF"));  // 40 stored
  for (const auto& nhs : {taker, taker, refused_by_db}) {  // their people were refused
    add_event(Referral(nhs, "mixed-ref-" + std::to_string(items.size()), "REF"));
    refuse(grpc::StatusCode::NOT_FOUND);
  }
  for (int i = 0; i < 10; ++i) {  // people never sent
    add_event(Referral(NextNhsNumber(), "mixed-unknown", "REF"));
    refuse(grpc::StatusCode::NOT_FOUND);
  }
  for (int i = 0; i < 10; ++i) add_event(Referral(people[i], "mixed-ref", "REF"));  // duplicates
  add_event(stored_before);                                                         // a duplicate
  add_person(MakePerson(people[10]));  // unchanged: a duplicate
  for (int i = 0; i < 8; ++i) {
    auto e = Admission(people[20 + i], "mixed-bad-bed", "BAD", kJan2026);
    e.mutable_admission()->set_bed_type("bad");
    add_event(e);
    refuse(grpc::StatusCode::INVALID_ARGUMENT);
  }
  items.emplace_back();  // neither a person nor an event
  refuse(grpc::StatusCode::INVALID_ARGUMENT);
  add_event(Referral(people[11], "mixed-ref", "OTHER"));  // a used id, other content
  refuse(grpc::StatusCode::ALREADY_EXISTS);
  for (int i = 0; i < 9; ++i) add_event(Admission(people[12 + i], "mixed-adm", "ADM", kJan2026));
  items.emplace_back();
  refuse(grpc::StatusCode::INVALID_ARGUMENT);

  icr::v1::ImportSummary summary;
  const grpc::Status status = Import(token, items, &summary);
  stack.Scalar("DROP TRIGGER test_refuse ON core.person");
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(summary.received(), static_cast<int64_t>(items.size()));
  EXPECT_EQ(summary.stored(), 40 + 40 + 9);
  EXPECT_EQ(summary.duplicates(), 10 + 1 + 1);
  EXPECT_EQ(summary.rejected(), static_cast<int64_t>(refused.size()));
  ASSERT_EQ(summary.rejections_size(), static_cast<int>(refused.size()));
  for (const auto& r : summary.rejections()) {
    ASSERT_TRUE(refused.count(r.index())) << r.index() << " " << r.message();
    EXPECT_EQ(r.code(), refused[r.index()]) << r.index() << " " << r.message();
  }
  // The refused people left nothing: no row, no identifier, no change.
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.person WHERE nhs_number IN ('" + taker +
                         "', '" + refused_by_db + "')"),
            "0");
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.person_identifier WHERE value = 'OWN-" +
                         owner_nhs + "'"),
            "1");
  // Every stored person has its change and audit rows, and its events.
  const std::string in = InList(people);
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.person p WHERE p.nhs_number IN (" + in +
                         ") AND EXISTS (SELECT 1 FROM core.changes c WHERE c.entity = 'person' "
                         "AND c.person_id = p.person_id AND c.change_type = 'created') AND EXISTS "
                         "(SELECT 1 FROM core.audit a WHERE a.person_id = p.person_id AND "
                         "a.action = 'ImportEvents') AND EXISTS (SELECT 1 FROM core.referral r "
                         "WHERE r.person_id = p.person_id)"),
            "40");
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.event e JOIN core.person p USING (person_id) "
                         "WHERE p.nhs_number IN (" +
                         in + ")"),
            "49");
}

// A stream cut off part way may have committed some batches: sending the whole stream again is
// harmless, and its summary counts what was already stored as duplicates.
TEST_F(RecordTest, ImportResentAfterACancelledStreamStoresEachItemOnce) {
  std::vector<icr::v1::ImportItem> items;
  std::vector<std::string> people;
  for (int i = 0; i < 30; ++i) {
    people.push_back(NextNhsNumber());
    *items.emplace_back().mutable_person() = MakePerson(people.back());
    *items.emplace_back().mutable_event() = Referral(people.back(), "cut-ref", "REF");
  }
  {
    icr::v1::ImportSummary summary;
    auto ctx = Ctx(token);
    auto stream = stack.record()->ImportEvents(ctx.get(), &summary);
    for (size_t i = 0; i < items.size() / 2; ++i) ASSERT_TRUE(stream->Write(items[i]));
    ctx->TryCancel();
    EXPECT_FALSE(stream->Finish().ok());
  }
  icr::v1::ImportSummary again;
  const grpc::Status status = Import(token, items, &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(again.stored() + again.duplicates(), static_cast<int64_t>(items.size()));
  EXPECT_EQ(again.rejected(), 0);
  const std::string in = InList(people);
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.person WHERE nhs_number IN (" + in + ")"),
            "30");
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.event e JOIN core.person p USING (person_id) "
                         "WHERE p.nhs_number IN (" +
                         in + ")"),
            "30");
}

// One stream that reuses each event id for two people: each id is kept for the person stored
// with it first and refused for the other. The two people are in different import lanes (so
// different transactions, which may run at once), the second sending the ids in reverse order.
TEST_F(RecordTest, ImportKeepsEachReusedEventIdOnceAcrossLanes) {
  constexpr int kIds = 300, kPeople = 2;
  // The service puts a person's items in a lane by NHS number: take people of two lanes, so
  // that two lanes store the same ids, in opposite orders.
  const auto lane = [](const std::string& n) {
    return ImportLanes::LaneOf(n, ImportLanes::kImportEventsLanes);
  };
  std::vector<std::string> people = {NextNhsNumber()};
  while (people.size() < kPeople) {
    const std::string nhs = NextNhsNumber();
    if (lane(nhs) != lane(people[0])) people.push_back(nhs);
  }
  std::vector<icr::v1::ImportItem> items;
  for (const auto& nhs : people) {
    items.emplace_back();
    *items.back().mutable_person() = MakePerson(nhs);
  }
  const std::string prefix = "reused-" + people[0] + "-";
  for (int p = 0; p < kPeople; ++p) {
    for (int k = 0; k < kIds; ++k) {
      const int id = p == 0 ? k : kIds - 1 - k;
      auto e = Referral(people[p], "unused", "REF" + std::to_string(id));
      e.set_event_id(prefix + std::to_string(id));
      items.emplace_back();
      *items.back().mutable_event() = e;
    }
  }
  icr::v1::ImportSummary summary;
  auto ctx = Ctx(token);
  auto stream = stack.record()->ImportEvents(ctx.get(), &summary);
  for (const auto& item : items) ASSERT_TRUE(stream->Write(item));
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  EXPECT_EQ(summary.received(), kPeople * (kIds + 1));
  EXPECT_EQ(summary.stored(), kPeople + kIds);  // the people, and each id once
  EXPECT_EQ(summary.rejected(), (kPeople - 1) * kIds);
  for (const auto& r : summary.rejections()) {
    EXPECT_EQ(r.code(), grpc::StatusCode::ALREADY_EXISTS) << r.index() << " " << r.message();
  }
  // Each id is logged once, and only its stored event had an effect: one referral per id, held
  // by the person whose event was logged.
  EXPECT_EQ(stack.Scalar("SELECT count(DISTINCT event_id) || '/' || count(*) FROM core.event "
                         "WHERE event_id LIKE '" + prefix + "%'"),
            std::to_string(kIds) + "/" + std::to_string(kIds));
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.event e JOIN core.referral r "
                         "ON r.person_id = e.person_id AND r.referral_id = "
                         "(SELECT nhs_number FROM core.person WHERE person_id = e.person_id) "
                         "|| '/REF' || substr(e.event_id, " + std::to_string(prefix.size() + 1) +
                         ") WHERE e.event_id LIKE '" + prefix + "%'"),
            std::to_string(kIds));
  std::string in;
  for (const auto& nhs : people) in += (in.empty() ? "'" : ",'") + nhs + "'";
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.referral r JOIN core.person p USING "
                         "(person_id) WHERE p.nhs_number IN (" + in + ")"),
            std::to_string(kIds));
}

// An import whose batch deadlocks with another writer of the same event ids (PostgreSQL aborts
// the batch's transaction) is not failed: the batch runs again, refusing only the events the
// other writer stored first. The other writer holds the batch's last id, and takes its first
// once the batch waits for it, and commits a little later, so that the batch's next run looks
// for its ids before they are stored and must run once more. PostgreSQL aborts the transaction
// that finds the cycle: the batch's, which has waited longest, unless its one check ran before
// the cycle closed.
TEST_F(RecordTest, ImportBatchThatDeadlocksRunsAgain) {
  constexpr int kIds = 50;
  const std::string nhs = NextNhsNumber();
  const icr::v1::Person other = SeedPerson("RGD", NextNhsNumber());
  const std::string prefix = "deadlock-" + nhs + "-";
  std::vector<icr::v1::ImportItem> items(1);
  *items[0].mutable_person() = MakePerson(nhs);
  for (int k = 0; k < kIds; ++k) {
    auto e = Referral(nhs, "unused", "REF" + std::to_string(k));
    e.set_event_id(prefix + std::to_string(k));
    items.emplace_back();
    *items.back().mutable_event() = e;
  }
  pqxx::connection conn(stack.database_url());
  pqxx::work writer(conn);
  auto insert = [&](int k) {
    writer.exec_params("INSERT INTO core.event (source_org, event_id, person_id, kind, "
                       "content_hash, payload) VALUES ('RGD', $1, $2::uuid, 'referral_opened', "
                       "'\\x00', '{}')",
                       prefix + std::to_string(k), other.person_id());
  };
  insert(kIds - 1);

  icr::v1::ImportSummary summary;
  grpc::Status status;
  std::thread import([&] {
    auto ctx = Ctx(token);
    auto stream = stack.record()->ImportEvents(ctx.get(), &summary);
    for (const auto& item : items) stream->Write(item);
    stream->WritesDone();
    status = stream->Finish();
  });
  // Once the batch waits for the last id, take its first: a cycle, found by the batch's backend
  // (it has waited longest), which aborts its own transaction.
  bool waiting = false;
  for (int i = 0; i < 500 && !waiting; ++i) {
    waiting = stack.Scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND query LIKE '%INSERT INTO core.event%' AND pid <> " +
                           std::to_string(conn.backendpid())) != "0";
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(waiting);
  bool batch_aborted = true;
  try {
    insert(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    writer.commit();
  } catch (const pqxx::deadlock_detected&) {
    batch_aborted = false;  // this writer's transaction was the one aborted
  }
  import.join();
  ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  if (!batch_aborted) {
    EXPECT_EQ(summary.stored(), 1 + kIds);
    EXPECT_EQ(summary.rejections_size(), 0);
    return;
  }
  EXPECT_EQ(summary.stored(), 1 + kIds - 2);  // the person, and the ids not taken
  ASSERT_EQ(summary.rejections_size(), 2);
  EXPECT_EQ(summary.rejections(0).index(), 1);
  EXPECT_EQ(summary.rejections(0).code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(summary.rejections(1).index(), kIds);
  EXPECT_EQ(summary.rejections(1).code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.referral r JOIN core.person p USING "
                         "(person_id) WHERE p.nhs_number = '" + nhs + "'"),
            std::to_string(kIds - 2));
}

// Closing events (discharges, ends of detentions, referrals and key workers) are written per
// kind in one statement per batch; each refused one is still refused alone, with its own status.
TEST_F(RecordTest, ImportClosesForSeveralPeopleAndRefusesBadClosesAlone) {
  const std::string a = NextNhsNumber(), b = NextNhsNumber();
  auto close_referral = [](const std::string& nhs, const std::string& id, const std::string& ref,
                           const std::string& date) {
    return build::ReferralClosed(nhs, nhs + "/" + id, nhs + "/" + ref, date, "Discharged");
  };
  auto end_detention = [](const std::string& nhs, const std::string& id,
                          const std::string& detention, int64_t at) {
    return build::DetentionEnd(nhs, nhs + "/" + id, nhs + "/D-" + detention, at,
                               "Discharged from section");
  };
  auto discharge_of = [](const std::string& nhs, const std::string& id, const std::string& spell,
                         int64_t at) {
    auto e = Discharge(nhs, id, "", at);
    e.mutable_discharge()->set_spell_id(spell);
    return e;
  };
  std::vector<icr::v1::ImportItem> items(2);
  *items[0].mutable_person() = MakePerson(a);
  *items[1].mutable_person() = MakePerson(b);
  for (const auto& e : std::vector<icr::v1::Event>{
           Admission(a, "adm", "SA", kJan2026), Admission(b, "adm", "SB", kJan2026),
           Detention(a, "det", "03", kJan2026), Referral(a, "ref", "RA"),
           Referral(b, "ref", "RB"),
           Discharge(a, "dis", "SA", kJan2026 + 5 * kDay),                    // 7: stored
           Discharge(b, "dis", "SB", kJan2026 + 6 * kDay),                    // 8: stored
           end_detention(a, "det-end", "det", kJan2026 + 5 * kDay),           // 9: stored
           close_referral(a, "ref-close", "RA", "2025-04-01"),                // 10: stored
           close_referral(b, "ref-close", "RB", "2025-04-02"),                // 11: stored
           Discharge(b, "dis-again", "SB", kJan2026 + 7 * kDay),              // 12: already
           discharge_of(a, "dis-other", b + "/SB", kJan2026 + 7 * kDay),      // 13: b's stay
           close_referral(b, "ref-early", "RB2", "2025-02-01"),               // 14: no RB2 yet
           Referral(b, "ref2", "RB2"),                                        // 15: stored
           close_referral(b, "ref2-early", "RB2", "2025-02-01"),              // 16: before
           end_detention(a, "det-end-again", "det", kJan2026 + 6 * kDay),    // 17: already
       }) {
    items.emplace_back();
    *items.back().mutable_event() = e;
  }
  auto import = [&](icr::v1::ImportSummary* summary) {
    auto ctx = Ctx(token);
    auto stream = stack.record()->ImportEvents(ctx.get(), summary);
    for (const auto& item : items) EXPECT_TRUE(stream->Write(item));
    stream->WritesDone();
    return stream->Finish();
  };
  icr::v1::ImportSummary first;
  ASSERT_TRUE(import(&first).ok());
  EXPECT_EQ(first.received(), 18);
  EXPECT_EQ(first.stored(), 13);
  ASSERT_EQ(first.rejections_size(), 5);
  const std::vector<std::tuple<int, grpc::StatusCode, std::string>> refused = {
      {12, grpc::StatusCode::FAILED_PRECONDITION, "event.discharge.spell_id: already discharged"},
      {13, grpc::StatusCode::FAILED_PRECONDITION, "event.discharge.spell_id: no hospital"},
      {14, grpc::StatusCode::FAILED_PRECONDITION, "event.referral_closed.referral_id: no referral"},
      {16, grpc::StatusCode::FAILED_PRECONDITION, "event.referral_closed.closed_date: before"},
      {17, grpc::StatusCode::FAILED_PRECONDITION, "event.detention_end.detention_id: already"},
  };
  for (size_t i = 0; i < refused.size(); ++i) {
    const auto& [index, code, message] = refused[i];
    EXPECT_EQ(first.rejections(i).index(), index);
    EXPECT_EQ(first.rejections(i).code(), code) << first.rejections(i).message();
    EXPECT_EQ(first.rejections(i).message().rfind(message, 0), 0u) << first.rejections(i).message();
  }
  auto scalar = [&](const std::string& nhs, const std::string& sql,
                    const std::string& where = "") {
    return stack.Scalar("SELECT " + sql + " JOIN core.person p USING (person_id) "
                        "WHERE p.nhs_number = '" + nhs + "'" + where);
  };
  // The first discharge of each stay is kept; the refused second one changed nothing.
  EXPECT_EQ(scalar(a, "extract(epoch FROM discharged_at)::bigint FROM core.hospital_spell s"),
            std::to_string(kJan2026 + 5 * kDay));
  EXPECT_EQ(scalar(b, "extract(epoch FROM discharged_at)::bigint FROM core.hospital_spell s"),
            std::to_string(kJan2026 + 6 * kDay));
  EXPECT_EQ(scalar(a, "extract(epoch FROM ended_at)::bigint FROM core.detention d"),
            std::to_string(kJan2026 + 5 * kDay));
  EXPECT_EQ(scalar(a, "closed_date::text FROM core.referral r"), "2025-04-01");
  EXPECT_EQ(scalar(b, "string_agg(coalesce(closed_date::text, 'open'), ',' ORDER BY referral_id) "
                      "FROM core.referral r"),
            "2025-04-02,open");
  // Every stored event has its log row and its change; the refused ones have neither.
  EXPECT_EQ(scalar(a, "count(*) FROM core.event e"), "6");
  EXPECT_EQ(scalar(b, "count(*) FROM core.event e"), "5");
  const std::string closes = " AND c.change_type IN ('discharged', 'detention_ended', "
                             "'referral_closed')";
  auto own_changes = [&](const std::string& nhs) {
    return scalar(nhs, "count(*) FROM core.changes c", closes);
  };
  EXPECT_EQ(own_changes(a), "3");
  EXPECT_EQ(own_changes(b), "2");
  EXPECT_EQ(scalar(a, "count(*) FROM core.audit x", " AND x.action = 'ImportEvents'"), "1");
  EXPECT_EQ(scalar(b, "count(*) FROM core.audit x", " AND x.action = 'ImportEvents'"), "1");

  // Importing the same stream again stores nothing new and changes nothing.
  const std::string changes_before = own_changes(a) + "/" + own_changes(b);
  icr::v1::ImportSummary second;
  ASSERT_TRUE(import(&second).ok());
  EXPECT_EQ(second.stored(), 0);
  EXPECT_EQ(second.duplicates(), 13);
  EXPECT_EQ(second.rejected(), 5);
  EXPECT_EQ(own_changes(a) + "/" + own_changes(b), changes_before);
  EXPECT_EQ(scalar(a, "count(*) FROM core.event e"), "6");
  EXPECT_EQ(scalar(b, "extract(epoch FROM discharged_at)::bigint FROM core.hospital_spell s"),
            std::to_string(kJan2026 + 6 * kDay));
}

// RecordEvents: a close refused at the end of the request names its own event, and nothing of
// the request is written.
TEST_F(RecordTest, RefusedCloseInARequestNamesItsEventAndWritesNothing) {
  const std::string nhs = NextNhsNumber(), other = NextNhsNumber();
  auto person = SeedPerson(kTrust, nhs);
  SeedPerson(kTrust, other);
  ASSERT_TRUE(Send(token, {Admission(other, "adm", "SO", kJan2026)}).ok());
  auto of_other = Discharge(nhs, "dis-other", "", kJan2026 + kDay);
  of_other.mutable_discharge()->set_spell_id(other + "/SO");  // the other person's stay
  auto s = Send(token, {Admission(nhs, "adm", "SN", kJan2026),
                        Discharge(nhs, "dis", "SN", kJan2026 + kDay), of_other});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_EQ(s.error_message().rfind("events[2].discharge.spell_id:", 0), 0u) << s.error_message();
  EXPECT_EQ(Count("core.hospital_spell", person.person_id()), "0");
  EXPECT_EQ(Count("core.event", person.person_id()), "0");
}

TEST_F(RecordTest, AuthenticationAndRoles) {
  icr::v1::GetPersonRequest get;
  get.set_nhs_number(NextNhsNumber());
  icr::v1::Person p;
  EXPECT_EQ(stack.record()->GetPerson(Ctx("").get(), get, &p).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(stack.record()->GetPerson(Ctx("icr_not-a-real-token").get(), get, &p).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  const auto analyst = stack.Token("QWO", "performance_analyst");
  EXPECT_EQ(stack.record()->GetPerson(Ctx(analyst).get(), get, &p).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  icr::v1::GetIntegratedRecordRequest rec;
  rec.set_nhs_number(get.nhs_number());
  icr::v1::IntegratedRecord r;
  EXPECT_EQ(stack.record()->GetIntegratedRecord(Ctx(analyst).get(), rec, &r).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Only the hash of a token is stored.
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.api_token WHERE token_sha256 = convert_to('" +
                         token + "', 'UTF8')"),
            "0");
}

}  // namespace
}  // namespace icr::test
