// The CLD mapper (services/datasets/cld_map.h) on returns written by tests/support/cld_fixture.
#include "services/datasets/cld_map.h"

#include <gtest/gtest.h>

#include <map>

#include "services/common/csv.h"
#include "services/common/validation.h"
#include "tests/support/cld_fixture.h"

namespace icr::datasets {
namespace {

using icr::fixtures::CldOptions;
using icr::fixtures::MakeCldReturn;
using icr::v1::CareActEvent;
using icr::v1::Event;

Table ReadCsv(const std::string& csv) {
  auto records = ParseCsv(csv);
  EXPECT_TRUE(records.ok()) << records.status();
  Table t;
  t.name = "CLD";
  t.columns = (*records)[0].cells;
  for (size_t i = 1; i < records->size(); ++i) t.rows.push_back((*records)[i].cells);
  return t;
}

std::map<CareActEvent::Kind, int> CountKinds(const Mapped& m) {
  std::map<CareActEvent::Kind, int> n;
  for (const auto& e : m.events) {
    if (e.has_care_act()) ++n[e.care_act().kind()];
  }
  return n;
}

const Event* Find(const Mapped& m, const std::string& id) {
  for (const auto& e : m.events) {
    if (e.event_id() == id) return &e;
  }
  return nullptr;
}

TEST(CldMap, Release2ReturnMapsToHandWorkedAnswers) {
  const auto f = MakeCldReturn();
  auto m = MapCld(ReadCsv(f.csv), "E08000035");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->refused.empty()) << m->refused[0].field << ": " << m->refused[0].reason;
  EXPECT_EQ(m->sender_org, "E08000035");
  EXPECT_EQ(m->period_start, "2025-10-01");
  EXPECT_EQ(m->period_end, "2026-09-30");
  EXPECT_EQ(m->rows_read.at("CLD"), f.rows);
  EXPECT_EQ(static_cast<int>(m->people.size()), f.people);
  auto kinds = CountKinds(*m);
  EXPECT_EQ(kinds[CareActEvent::REQUEST], f.requests);
  EXPECT_EQ(kinds[CareActEvent::ASSESSMENT], f.assessments);
  EXPECT_EQ(kinds[CareActEvent::SERVICE], f.services);
  EXPECT_EQ(kinds[CareActEvent::REVIEW], f.reviews);

  const Event* svc = Find(*m, "cld:svc:P1:S1");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->nhs_number(), f.nhs_numbers[0]);
  const auto& c = svc->care_act();
  EXPECT_EQ(c.council_code(), "E08000035");
  EXPECT_EQ(c.service_type(), "Long term support: Community");
  EXPECT_EQ(c.delivery_mechanism(), "direct_payment");
  EXPECT_EQ(c.raw_delivery_mechanism(), "Direct payment");
  EXPECT_EQ(c.primary_support_reason(), "Mental Health Support");
  EXPECT_EQ(c.weekly_cost_pence(), f.weekly_cost_pence);
  EXPECT_EQ(c.source_release(), "R2");
  EXPECT_EQ(c.end_date(), "");

  const auto& p1 = m->people[0];
  EXPECT_EQ(p1.nhs_number(), f.nhs_numbers[0]);
  EXPECT_EQ(p1.sex(), "2");
  EXPECT_EQ(p1.ethnic_category(), "A");
  ASSERT_EQ(p1.local_identifiers_size(), 1);
  EXPECT_EQ(p1.local_identifiers(0).system(), "E08000035:CLD");
  EXPECT_EQ(p1.local_identifiers(0).value(), "P1");

  const Event* a = Find(*m, "cld:asm:P1:A1");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->care_act().assessment_type(), "long_term");
  EXPECT_EQ(a->care_act().outcome(), "Progress to support planning or services");
}

TEST(CldMap, Release1SpellingsMapToTheSameVocabularyRawKept) {
  CldOptions o;
  o.release1 = true;
  const auto f = MakeCldReturn(o);
  auto m = MapCld(ReadCsv(f.csv), "E08000035");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->refused.empty());
  const auto& c = Find(*m, "cld:svc:P1:S1")->care_act();
  EXPECT_EQ(c.source_release(), "R1");
  EXPECT_EQ(c.service_type(), "Long term support: Community");
  EXPECT_EQ(c.raw_service_type(), "Long Term Support: Community");
  EXPECT_EQ(c.delivery_mechanism(), "direct_payment");
  EXPECT_EQ(c.raw_delivery_mechanism(), "Direct Payment");
  EXPECT_EQ(c.raw_client_type(), "Service User");
  // The carer row ("Carer" in Release 1) still links to the person cared for.
  const Event* link = Find(*m, "cld:asm:C1:CA1:1");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->carer_assessment().relationship(), "unpaid carer");
  EXPECT_EQ(link->carer_assessment().raw_client_type(), "Carer");
}

TEST(CldMap, HeaderMatchedIgnoringCaseAndUnderscores) {
  auto t = ReadCsv(MakeCldReturn().csv);
  for (auto& c : t.columns) {
    for (auto& ch : c) ch = ch == ' ' ? '_' : static_cast<char>(std::tolower(ch));
  }
  t.columns[0] = "\xEF\xBB\xBF" + t.columns[0];  // a byte order mark before "la_code"
  auto m = MapCld(t, "E08000035");
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(CountKinds(*m)[CareActEvent::SERVICE], 3);
}

TEST(CldMap, BadHeaderIsTheFilesErrorNamingTheColumn) {
  auto t = ReadCsv(MakeCldReturn().csv);
  t.columns[4] = "Person Ref";  // not a CLD column
  auto m = MapCld(t, "E08000035");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("Person Ref"), std::string::npos) << m.status();

  auto missing = ReadCsv(MakeCldReturn().csv);
  missing.columns.erase(missing.columns.begin() + 14);  // Event Reference
  for (auto& r : missing.rows) r.erase(r.begin() + 14);
  m = MapCld(missing, "E08000035");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("Event Reference"), std::string::npos) << m.status();
}

TEST(CldMap, RowsDisagreeingOnThePeriodAreTheFilesError) {
  auto t = ReadCsv(MakeCldReturn().csv);
  t.rows[2][2] = "2026-06-30";
  auto m = MapCld(t, "E08000035");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("Reporting Period End Date"), std::string::npos);
}

TEST(CldMap, BadNhsNumberMatchesByTheCouncilsPersonId) {
  const auto f = MakeCldReturn();
  auto m = MapCld(ReadCsv(f.csv), "E08000035");
  ASSERT_TRUE(m.ok());
  const Event* e = Find(*m, "cld:req:P900:R900");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->nhs_number(), "");
  EXPECT_EQ(e->subject_local_identifier().system(), "E08000035:CLD");
  EXPECT_EQ(e->subject_local_identifier().value(), f.unmatched_person_id);
  // Everyone else is named by NHS number.
  for (const auto& ev : m->events) {
    if (ev.event_id() != "cld:req:P900:R900") {
      EXPECT_FALSE(ev.nhs_number().empty()) << ev.event_id();
    }
  }
}

TEST(CldMap, CarerAssessmentLandsOnThePersonCaredFor) {
  const auto f = MakeCldReturn();
  auto m = MapCld(ReadCsv(f.csv), "E08000035");
  ASSERT_TRUE(m.ok());
  const Event* own = Find(*m, "cld:asm:C1:CA1");
  ASSERT_NE(own, nullptr);
  EXPECT_EQ(own->nhs_number(), f.carer_nhs_number);
  EXPECT_EQ(own->care_act().assessment_type(), "carer");
  const Event* link = Find(*m, "cld:asm:C1:CA1:1");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->nhs_number(), f.nhs_numbers[0]);  // on P1, the adult cared for
  const auto& c = link->carer_assessment();
  EXPECT_EQ(c.carer_name(), "Carer Testperson");
  EXPECT_EQ(c.council_code(), "E08000035");
  EXPECT_EQ(c.offered_date(), "2026-03-01");
  EXPECT_EQ(c.completed_date(), "2026-03-15");
  int links = 0;
  for (const auto& ev : m->events) links += ev.has_carer_assessment();
  EXPECT_EQ(links, f.carer_links);
}

TEST(CldMap, ResubmissionKeepsEventIdsAndCarriesTheCorrection) {
  const auto first = MakeCldReturn();
  CldOptions o;
  o.resubmission = true;
  const auto again = MakeCldReturn(o);
  auto a = MapCld(ReadCsv(first.csv), "E08000035");
  auto b = MapCld(ReadCsv(again.csv), "E08000035");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->events.size(), b->events.size());
  int differ = 0;
  for (size_t i = 0; i < a->events.size(); ++i) {
    EXPECT_EQ(a->events[i].event_id(), b->events[i].event_id());
    differ += a->events[i].SerializeAsString() != b->events[i].SerializeAsString();
  }
  EXPECT_EQ(differ, 1);
  EXPECT_EQ(Find(*b, again.corrected_event_id)->care_act().end_date(), again.corrected_end_date);
}

TEST(CldMap, RowProblemsAreRefusalsNamingTheColumn) {
  auto t = ReadCsv(MakeCldReturn().csv);
  t.rows[0][13] = "Visit";               // Event Type
  t.rows[1][15] = "31/02/2026";          // Event Start Date: no such day
  t.rows[2][0] = "E08000036";            // LA Code: another council
  t.rows[3] = t.rows[2];                 // the same event again
  t.rows[3][0] = "E08000035";
  auto m = MapCld(t, "E08000035");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->refused.size(), 3u);
  EXPECT_EQ(m->refused[0].row, 1);
  EXPECT_EQ(m->refused[0].field, "Event Type");
  EXPECT_EQ(m->refused[1].field, "Event Start Date");
  EXPECT_EQ(m->refused[2].field, "LA Code");
  EXPECT_EQ(m->refused[2].table, "CLD");
  // Row 4 (a copy of the refused row 3, now the sender's) is stored once, not refused.
  EXPECT_NE(Find(*m, "cld:svc:P1:S1"), nullptr);
}

TEST(CldMap, DuplicateEventInOneFileIsRefused) {
  auto t = ReadCsv(MakeCldReturn().csv);
  t.rows.push_back(t.rows[0]);
  auto m = MapCld(t, "E08000035");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->refused.size(), 1u);
  EXPECT_EQ(m->refused[0].field, "Event Reference");
  EXPECT_EQ(m->refused[0].row, static_cast<int64_t>(t.rows.size()));
}

TEST(CldFixture, TestNhsNumbersPassTheCheck) {
  EXPECT_TRUE(icr::NhsNumberChecksumOk(icr::fixtures::TestNhsNumber(100)));
  EXPECT_NE(icr::fixtures::TestNhsNumber(100), icr::fixtures::TestNhsNumber(101));
}

}  // namespace
}  // namespace icr::datasets
