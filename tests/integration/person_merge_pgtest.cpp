// Merge, unmerge and change of NHS number (issue 22 item 3) through a real gRPC channel against
// real PostgreSQL: two people with events, a care plan and S117 entitlements merged; the
// superseded NHS number resolving to the survivor with the flag; a merge refused while both have
// an open entitlement (nothing changed); an unmerge restoring every row of every table (a full
// dump of both people, compared); an unrelated trust refused as if the people did not exist;
// audit rows and change-feed entries counted; the S117 follower following the survivor.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>

#include "icr/v1/careplan.grpc.pb.h"
#include "services/common/validation.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {
using Code = grpc::StatusCode;
using google::protobuf::util::TimeUtil;

constexpr char kTrust[] = "RGD";     // records both people
constexpr char kStranger[] = "RXV";  // an unrelated trust

google::protobuf::Timestamp At(int days_ago) {
  const auto day = Today() - std::chrono::days{days_ago};
  return TimeUtil::SecondsToTimestamp(
      std::chrono::sys_seconds{day}.time_since_epoch().count() + 43200);
}

void CatchUp() { CatchUpS117Feed(); }

class PersonMergeTest : public ::testing::Test {
 protected:
  // A person recorded by the trust, with a local identifier of their own.
  icr::v1::Person NewPerson() {
    const std::string nhs = NextNhsNumber();
    icr::v1::UpsertPersonRequest req;
    *req.mutable_person() = MakePerson(nhs);
    auto* id = req.mutable_person()->add_local_identifiers();
    id->set_system("RGD:Care");
    id->set_value("L" + nhs);
    icr::v1::Person out;
    auto s = stack.record()->UpsertPerson(Ctx(trust).get(), req, &out);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return out;
  }
  void Record(const std::vector<icr::v1::Event>& events) {
    auto s = Send(trust, events);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  std::string Id(const icr::v1::Person& p, const std::string& what) {
    return what + "-" + p.nhs_number();
  }
  // A referral with a contact: the record's community side.
  void Community(const icr::v1::Person& p) {
    Record({build::ReferralOpened(p.nhs_number(), Id(p, "ref"), Id(p, "R"), kTrust, "2026-01-05"),
            build::CareContact(p.nhs_number(), Id(p, "con"), Id(p, "C"), "2026-02-01")});
  }
  // Detained under s3 300 days ago, discharged 250 days ago: an ACTIVE entitlement (follower).
  void Entitled(const icr::v1::Person& p) {
    const std::string& nhs = p.nhs_number();
    Record({build::Admission(nhs, Id(p, "adm"), Id(p, "S"), kTrust, At(300).seconds()),
            build::DetentionStart(nhs, Id(p, "det"), Id(p, "D"), "03", kTrust, At(300).seconds())});
    Record({build::DetentionEnd(nhs, Id(p, "end"), Id(p, "D"), At(250).seconds(), "discharged"),
            build::Discharge(nhs, Id(p, "dis"), Id(p, "S"), At(250).seconds())});
  }
  void Admitted(const icr::v1::Person& p) {
    Record({build::Admission(p.nhs_number(), Id(p, "adm2"), Id(p, "S2"), kTrust,
                             At(1).seconds())});
  }
  void Plan(const icr::v1::Person& p) {
    icr::v1::CreateCarePlanRequest req;
    req.set_nhs_number(p.nhs_number());
    *req.mutable_plan() = build::CarePlanContent(false, kTrust, "2027-01-31");
    icr::v1::CarePlan out;
    auto s = icr::v1::CarePlanService::NewStub(stack.channel())
                 ->CreateCarePlan(Ctx(trust).get(), req, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status Merge(const std::string& token, const std::string& survivor_nhs,
                     const std::string& superseded_nhs, icr::v1::MergePeopleResponse* out) {
    icr::v1::MergePeopleRequest req;
    req.mutable_survivor()->set_nhs_number(survivor_nhs);
    req.mutable_superseded()->set_nhs_number(superseded_nhs);
    req.set_reason("duplicate registration (PDS merge)");
    return stack.record()->MergePeople(Ctx(token).get(), req, out);
  }
  grpc::Status Unmerge(const std::string& merge_id, icr::v1::UnmergeResponse* out) {
    icr::v1::UnmergeRequest req;
    req.set_merge_id(merge_id);
    req.set_reason("merged in error");
    return stack.record()->Unmerge(Ctx(trust).get(), req, out);
  }

  // Every row of both people in every table with a person_id column (found from the catalogue
  // here, independently of the service), and their person rows: the tables' names, then each
  // table's rows as JSON, sorted. The audit trail and change feed only grow; the record stamp
  // and body are caches.
  std::string Dump(const icr::v1::Person& a, const icr::v1::Person& b) {
    const std::string tables = stack.Scalar(
        "SELECT string_agg(table_schema || '.' || table_name, ',' ORDER BY 1) FROM "
        "information_schema.columns c JOIN information_schema.tables t USING (table_schema, "
        "table_name) WHERE c.column_name = 'person_id' AND t.table_type = 'BASE TABLE' AND "
        "table_schema || '.' || table_name NOT IN ('core.audit', 'core.changes', "
        "'core.record_stamp', 'core.record_body')");
    std::string out = tables + "\n";
    std::stringstream names(tables);
    for (std::string table; std::getline(names, table, ',');) {
      out += table + ": " +
             stack.Scalar("SELECT string_agg(to_jsonb(t)::text, E'\\n' ORDER BY to_jsonb(t)::text) "
                          "FROM " + table + " t WHERE person_id IN ('" + a.person_id() + "', '" +
                          b.person_id() + "')") +
             "\n";
    }
    return out;
  }
  std::string Count(const std::string& sql) { return stack.Scalar(sql); }

  Stack& stack = Stack::Get();
  std::string trust = stack.Token(kTrust, "system");
};

// The whole life of a merge: everything moves, the alias finds the survivor (flagged) and takes
// new events, one audit row and one change per row moved, and the unmerge puts back every row.
TEST_F(PersonMergeTest, MergeMovesEverythingAndUnmergeRestoresEveryRow) {
  const auto survivor = NewPerson(), superseded = NewPerson();
  Community(survivor);
  Community(superseded);
  Entitled(superseded);
  Plan(superseded);
  CatchUp();
  ASSERT_EQ(Count("SELECT count(*) FROM s117.episode WHERE state = 'ACTIVE' AND person_id = '" +
                  superseded.person_id() + "'"),
            "1");
  const std::string before = Dump(survivor, superseded);
  const std::string rows_of_superseded = Count(
      "SELECT (SELECT count(*) FROM core.event WHERE person_id = '" + superseded.person_id() +
      "') || '/' || (SELECT count(*) FROM careplan.plan WHERE person_id = '" +
      superseded.person_id() + "') || '/' || (SELECT count(*) FROM s117.episode WHERE "
      "person_id = '" + superseded.person_id() + "')");
  EXPECT_EQ(rows_of_superseded, "6/1/1");
  const std::string audit_before = Count("SELECT coalesce(max(audit_pk), 0) FROM core.audit");

  icr::v1::MergePeopleResponse merged;
  auto s = Merge(trust, survivor.nhs_number(), superseded.nhs_number(), &merged);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(merged.survivor().person_id(), survivor.person_id());
  EXPECT_EQ(merged.rows_by_table().at("core.event"), 6);
  EXPECT_EQ(merged.rows_by_table().at("s117.episode"), 1);
  EXPECT_EQ(merged.rows_by_table().at("careplan.plan"), 1);
  EXPECT_EQ(merged.rows_by_table().at("core.person_identifier"), 1);
  // Nothing is left under the superseded person, who is gone; the survivor holds it all.
  EXPECT_EQ(Count("SELECT count(*) FROM core.person WHERE person_id = '" +
                  superseded.person_id() + "'"),
            "0");
  EXPECT_EQ(Count("SELECT (SELECT count(*) FROM core.event WHERE person_id = '" +
                  survivor.person_id() + "') || '/' || (SELECT count(*) FROM careplan.plan WHERE "
                  "person_id = '" + survivor.person_id() + "') || '/' || (SELECT count(*) FROM "
                  "s117.episode WHERE person_id = '" + survivor.person_id() + "')"),
            "8/1/1");
  // One audit row and one change per row moved, and the merge itself on the feed.
  EXPECT_EQ(Count("SELECT count(*) FROM core.audit WHERE audit_pk > " + audit_before +
                  " AND action LIKE 'MergePeople:%' AND person_id = '" + survivor.person_id() +
                  "'"),
            std::to_string(merged.rows_moved()));
  EXPECT_EQ(Count("SELECT count(*) FROM core.changes WHERE change_type = 'moved_by_merge' AND "
                  "person_id = '" + survivor.person_id() + "'"),
            std::to_string(merged.rows_moved()));
  EXPECT_EQ(Count("SELECT count(*) FROM core.changes WHERE change_type = 'merged' AND "
                  "entity_id = '" + superseded.person_id() + "' AND person_id = '" +
                  survivor.person_id() + "'"),
            "1");

  // The superseded NHS number still finds the person: the survivor, flagged.
  icr::v1::GetPersonRequest get;
  get.set_nhs_number(superseded.nhs_number());
  icr::v1::Person found;
  s = stack.record()->GetPerson(Ctx(trust).get(), get, &found);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(found.person_id(), survivor.person_id());
  EXPECT_EQ(found.resolved_from_alias(), superseded.nhs_number());
  icr::v1::GetIntegratedRecordRequest read;
  read.set_nhs_number(superseded.nhs_number());
  icr::v1::IntegratedRecord record;
  s = stack.record()->GetIntegratedRecord(Ctx(trust).get(), read, &record);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(record.person().person_id(), survivor.person_id());
  EXPECT_EQ(record.person().resolved_from_alias(), superseded.nhs_number());
  EXPECT_EQ(record.s117().state(), "ACTIVE");
  get.set_nhs_number(survivor.nhs_number());
  s = stack.record()->GetPerson(Ctx(trust).get(), get, &found);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(found.resolved_from_alias(), "");  // by the person's own number: no flag
  // The superseded person's local identifier finds the survivor.
  icr::v1::FindPeopleRequest find;
  find.mutable_local_identifier()->set_system("RGD:Care");
  find.mutable_local_identifier()->set_value("L" + superseded.nhs_number());
  icr::v1::FindPeopleResponse people;
  s = stack.record()->FindPeople(Ctx(trust).get(), find, &people);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(people.people_size(), 1);
  EXPECT_EQ(people.people(0).person_id(), survivor.person_id());

  // A new event sent with the old number lands on the survivor.
  Record({build::CareContact(superseded.nhs_number(), Id(superseded, "late"),
                             Id(superseded, "late"), "2026-03-01")});
  EXPECT_EQ(Count("SELECT person_id FROM core.event WHERE event_id = '" + Id(superseded, "late") +
                  "'"),
            survivor.person_id());

  // Unmerge. The event sent after the merge is the survivor's and stays theirs, so it is taken
  // out first to compare with the state before the merge: every row of both people back.
  icr::v1::UnmergeResponse unmerged;
  EXPECT_EQ(Count("WITH e AS (DELETE FROM core.event WHERE event_id = '" +
                  Id(superseded, "late") + "' RETURNING 1), c AS (DELETE FROM core.care_contact "
                  "WHERE contact_id = '" + Id(superseded, "late") + "' RETURNING 1) "
                  "SELECT (SELECT count(*) FROM e) + (SELECT count(*) FROM c)"),
            "2");
  s = Unmerge(merged.merge_id(), &unmerged);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(unmerged.restored().person_id(), superseded.person_id());
  EXPECT_EQ(unmerged.rows_restored(), merged.rows_moved());
  EXPECT_EQ(Dump(survivor, superseded), before);
  get.set_nhs_number(superseded.nhs_number());
  s = stack.record()->GetPerson(Ctx(trust).get(), get, &found);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(found.person_id(), superseded.person_id());
  EXPECT_EQ(found.resolved_from_alias(), "");
  EXPECT_EQ(Count("SELECT count(*) FROM core.audit WHERE audit_pk > " + audit_before +
                  " AND action LIKE 'Unmerge:%' AND person_id = '" + superseded.person_id() +
                  "'"),
            std::to_string(merged.rows_moved()));
  // Once undone, a merge cannot be undone again.
  EXPECT_EQ(Unmerge(merged.merge_id(), &unmerged).error_code(), Code::FAILED_PRECONDITION);
}

// An unmerge that cannot be exact is refused and changes nothing: a row the merge moved has
// been removed since.
TEST_F(PersonMergeTest, UnmergeThatCannotBeExactIsRefused) {
  const auto survivor = NewPerson(), superseded = NewPerson();
  Community(superseded);
  icr::v1::MergePeopleResponse merged;
  auto s = Merge(trust, survivor.nhs_number(), superseded.nhs_number(), &merged);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Count("DELETE FROM core.person_identifier WHERE value = 'L" +
                  superseded.nhs_number() + "' RETURNING 1"),
            "1");
  const std::string before = Dump(survivor, superseded);
  icr::v1::UnmergeResponse unmerged;
  s = Unmerge(merged.merge_id(), &unmerged);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("core.person_identifier"), std::string::npos)
      << s.error_message();
  EXPECT_EQ(Dump(survivor, superseded), before);
  icr::v1::GetPersonRequest get;
  get.set_nhs_number(superseded.nhs_number());
  icr::v1::Person found;
  ASSERT_TRUE(stack.record()->GetPerson(Ctx(trust).get(), get, &found).ok());
  EXPECT_EQ(found.person_id(), survivor.person_id());
}

// The same through icrctl and FHIR: `icrctl person merge` merges and prints the merge id; a FHIR
// Patient search by the former NHS number finds the survivor and says it was a former number;
// `icrctl person unmerge` undoes it.
TEST_F(PersonMergeTest, IcrctlMergesAndFhirFindsByTheFormerNumber) {
  const auto survivor = NewPerson(), superseded = NewPerson();
  const std::string flags = " --server " + stack.target() + " --token " + trust;
  auto run = RunCommand(std::string(ICRCTL) + " person merge " + survivor.nhs_number() + " " +
                        superseded.nhs_number() + " --reason duplicate" + flags + " --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto merged = nlohmann::json::parse(run.output);
  EXPECT_EQ(merged["survivor"]["person_id"], survivor.person_id());

  httplib::Client client("127.0.0.1", stack.fhir_port());
  auto res = client.Get("/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|" +
                            superseded.nhs_number(),
                        {{"Authorization", "Bearer " + trust}});
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const auto bundle = nlohmann::json::parse(res->body);
  ASSERT_EQ(bundle["entry"].size(), 2u) << res->body;
  EXPECT_EQ(bundle["entry"][0]["resource"]["id"], survivor.person_id());
  EXPECT_EQ(bundle["entry"][1]["search"]["mode"], "outcome");
  res = client.Get("/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|" +
                       survivor.nhs_number(),
                   {{"Authorization", "Bearer " + trust}});
  ASSERT_TRUE(res);
  EXPECT_EQ(nlohmann::json::parse(res->body)["entry"].size(), 1u) << res->body;

  run = RunCommand(std::string(ICRCTL) + " person unmerge " +
                   merged["merge_id"].get<std::string>() + " --reason 'merged in error'" + flags);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("row(s) restored"), std::string::npos) << run.output;
  EXPECT_EQ(Count("SELECT count(*) FROM core.person WHERE person_id = '" +
                  superseded.person_id() + "'"),
            "1");
  EXPECT_NE(RunCommand(std::string(ICRCTL) + " person merge --help").output.find("--reason"),
            std::string::npos);
}

// A survivor merged again: the first record's number follows to the last survivor; the first
// merge cannot be undone before the second, and both undo in order.
TEST_F(PersonMergeTest, MergesChainAndUndoInOrder) {
  const auto a = NewPerson(), b = NewPerson(), c = NewPerson();
  Community(b);
  const std::string before = Dump(a, b) + Dump(c, c);
  icr::v1::MergePeopleResponse first, second;
  ASSERT_TRUE(Merge(trust, a.nhs_number(), b.nhs_number(), &first).ok());
  ASSERT_TRUE(Merge(trust, c.nhs_number(), a.nhs_number(), &second).ok());
  icr::v1::GetPersonRequest get;
  get.set_nhs_number(b.nhs_number());
  icr::v1::Person found;
  ASSERT_TRUE(stack.record()->GetPerson(Ctx(trust).get(), get, &found).ok());
  EXPECT_EQ(found.person_id(), c.person_id());
  EXPECT_EQ(found.resolved_from_alias(), b.nhs_number());
  icr::v1::UnmergeResponse unmerged;
  auto s = Unmerge(first.merge_id(), &unmerged);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("unmerge that merge first"), std::string::npos)
      << s.error_message();
  EXPECT_EQ(stack.Scalar("SELECT count(*) FROM core.person WHERE person_id IN ('" +
                         a.person_id() + "', '" + b.person_id() + "')"),
            "0");
  // A stranger learns nothing of a merge it may not see.
  icr::v1::UnmergeRequest req;
  req.set_merge_id(first.merge_id());
  req.set_reason("curious");
  EXPECT_EQ(stack.record()
                ->Unmerge(Ctx(stack.Token(kStranger, "system")).get(), req, &unmerged)
                .error_code(),
            Code::NOT_FOUND);
  ASSERT_TRUE(Unmerge(second.merge_id(), &unmerged).ok());
  ASSERT_TRUE(Unmerge(first.merge_id(), &unmerged).ok());
  EXPECT_EQ(Dump(a, b) + Dump(c, c), before);
}

// Two open entitlements cannot become one person's: refused, naming both, and nothing changes.
TEST_F(PersonMergeTest, MergeOfTwoOpenEntitlementsIsRefusedAndChangesNothing) {
  const auto a = NewPerson(), b = NewPerson();
  Entitled(a);
  Entitled(b);
  CatchUp();
  const std::string before = Dump(a, b);
  const std::string changes = Count("SELECT count(*) FROM core.changes");
  icr::v1::MergePeopleResponse merged;
  auto s = Merge(trust, a.nhs_number(), b.nhs_number(), &merged);
  EXPECT_EQ(s.error_code(), Code::FAILED_PRECONDITION) << s.error_message();
  const std::string a_episode = Count("SELECT episode_id FROM s117.episode WHERE person_id = '" +
                                      a.person_id() + "'");
  const std::string b_episode = Count("SELECT episode_id FROM s117.episode WHERE person_id = '" +
                                      b.person_id() + "'");
  EXPECT_NE(s.error_message().find(a_episode), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find(b_episode), std::string::npos) << s.error_message();
  EXPECT_EQ(Dump(a, b), before);
  EXPECT_EQ(Count("SELECT count(*) FROM core.changes"), changes);
  EXPECT_EQ(Count("SELECT count(*) FROM core.nhs_number_alias WHERE nhs_number = '" +
                  b.nhs_number() + "'"),
            "0");
}

// Who may merge: a system or admin of an organisation that sees both people. An unrelated trust
// gets NOT_FOUND, exactly as for an NHS number of no one; the same person twice and a bad
// request are INVALID_ARGUMENT.
TEST_F(PersonMergeTest, OnlyAnOrganisationSeeingBothMerges) {
  const auto a = NewPerson(), b = NewPerson();
  const std::string before = Dump(a, b);
  icr::v1::MergePeopleResponse merged;
  const auto stranger = Merge(stack.Token(kStranger, "system"), a.nhs_number(), b.nhs_number(),
                              &merged);
  EXPECT_EQ(stranger.error_code(), Code::NOT_FOUND) << stranger.error_message();
  const auto nobody = Merge(trust, a.nhs_number(), NextNhsNumber(), &merged);
  EXPECT_EQ(nobody.error_code(), Code::NOT_FOUND);
  const auto nobody_survivor = Merge(stack.Token(kStranger, "system"), NextNhsNumber(),
                                     b.nhs_number(), &merged);
  EXPECT_EQ(stranger.error_message(), nobody_survivor.error_message());
  EXPECT_EQ(Merge(stack.Token(kStranger, "admin"), a.nhs_number(), b.nhs_number(), &merged)
                .error_code(),
            Code::NOT_FOUND);
  EXPECT_EQ(Merge(stack.Token(kTrust, "clinician"), a.nhs_number(), b.nhs_number(), &merged)
                .error_code(),
            Code::PERMISSION_DENIED);
  const auto same = Merge(trust, a.nhs_number(), a.nhs_number(), &merged);
  EXPECT_EQ(same.error_code(), Code::INVALID_ARGUMENT);
  EXPECT_EQ(Merge(trust, a.nhs_number(), "123", &merged).error_code(), Code::INVALID_ARGUMENT);
  EXPECT_EQ(Dump(a, b), before);
  icr::v1::UnmergeResponse unmerged;
  EXPECT_EQ(Unmerge("00000000-0000-0000-0000-000000000000", &unmerged).error_code(),
            Code::NOT_FOUND);
}

// The S117 follower follows the survivor: the superseded person's entitlement, now the
// survivor's, learns the survivor is in hospital.
TEST_F(PersonMergeTest, TheS117FollowerFollowsTheSurvivor) {
  const auto survivor = NewPerson(), superseded = NewPerson();
  Entitled(superseded);
  CatchUp();
  const std::string episode = Count("SELECT episode_id FROM s117.episode WHERE person_id = '" +
                                    superseded.person_id() + "'");
  ASSERT_EQ(Count("SELECT in_hospital FROM s117.episode WHERE episode_id = '" + episode + "'"),
            "f");
  Admitted(survivor);
  CatchUp();
  icr::v1::MergePeopleResponse merged;
  auto s = Merge(trust, survivor.nhs_number(), superseded.nhs_number(), &merged);
  ASSERT_TRUE(s.ok()) << s.error_message();
  CatchUp();
  EXPECT_EQ(Count("SELECT person_id || '/' || in_hospital FROM s117.episode WHERE episode_id = '" +
                  episode + "'"),
            survivor.person_id() + "/true");
}

// A new NHS number: checked and unused; the old one still finds the person, flagged.
TEST_F(PersonMergeTest, ChangeOfNhsNumberKeepsTheOldOneAsAnAlias) {
  const auto p = NewPerson(), other = NewPerson();
  icr::v1::ChangeNhsNumberRequest req;
  req.mutable_person()->set_nhs_number(p.nhs_number());
  req.set_reason("superseded by PDS");
  icr::v1::Person changed;
  req.set_new_nhs_number("9434765918");  // fails Modulus 11
  EXPECT_EQ(stack.record()->ChangeNhsNumber(Ctx(trust).get(), req, &changed).error_code(),
            Code::INVALID_ARGUMENT);
  req.set_new_nhs_number(other.nhs_number());
  EXPECT_EQ(stack.record()->ChangeNhsNumber(Ctx(trust).get(), req, &changed).error_code(),
            Code::ALREADY_EXISTS);
  const std::string next = NextNhsNumber();
  req.set_new_nhs_number(next);
  auto s = stack.record()->ChangeNhsNumber(Ctx(trust).get(), req, &changed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(changed.nhs_number(), next);
  EXPECT_EQ(changed.version(), p.version() + 1);
  icr::v1::GetPersonRequest get;
  get.set_nhs_number(p.nhs_number());
  icr::v1::Person found;
  s = stack.record()->GetPerson(Ctx(trust).get(), get, &found);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(found.person_id(), p.person_id());
  EXPECT_EQ(found.nhs_number(), next);
  EXPECT_EQ(found.resolved_from_alias(), p.nhs_number());
  // An upsert naming the old number updates the person, flagged (the trust, with an open
  // referral, may change demographics).
  Community(p);
  icr::v1::UpsertPersonRequest upsert;
  *upsert.mutable_person() = MakePerson(p.nhs_number());
  upsert.mutable_person()->set_postcode("LS2 7UE");
  icr::v1::Person upserted;
  s = stack.record()->UpsertPerson(Ctx(trust).get(), upsert, &upserted);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(upserted.person_id(), p.person_id());
  EXPECT_EQ(upserted.nhs_number(), next);
  EXPECT_EQ(upserted.postcode(), "LS2 7UE");
  EXPECT_EQ(upserted.resolved_from_alias(), p.nhs_number());
  // A bulk import naming the old number lands on the person too.
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + trust);
    icr::v1::ImportSummary summary;
    auto writer = stack.record()->ImportEvents(&ctx, &summary);
    icr::v1::ImportItem item;
    *item.mutable_event() =
        build::CareContact(p.nhs_number(), Id(p, "imported"), Id(p, "imported"), "2026-03-01");
    ASSERT_TRUE(writer->Write(item));
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
    EXPECT_EQ(summary.stored(), 1) << summary.DebugString();
    EXPECT_EQ(Count("SELECT person_id FROM core.care_contact WHERE contact_id = '" +
                    Id(p, "imported") + "'"),
              p.person_id());
  }
  // The old number is taken: no one else may have it.
  req.mutable_person()->set_nhs_number(other.nhs_number());
  req.set_new_nhs_number(p.nhs_number());
  EXPECT_EQ(stack.record()->ChangeNhsNumber(Ctx(trust).get(), req, &changed).error_code(),
            Code::ALREADY_EXISTS);
  EXPECT_EQ(Count("SELECT count(*) FROM core.changes WHERE change_type = 'nhs_number_changed' "
                  "AND person_id = '" + p.person_id() + "'"),
            "1");
}

}  // namespace
}  // namespace icr::test
