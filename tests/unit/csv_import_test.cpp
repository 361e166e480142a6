// The import layouts: CSV reading (services/common/csv), the register row
// (services/s117/register_csv), the care plan row (services/careplan/plan_csv) and the demo's
// sample register (clients/demo/register_sample), which must parse row for row.
#include <gtest/gtest.h>

#include "clients/demo/register_sample.h"
#include "services/careplan/plan_csv.h"
#include "services/common/csv.h"
#include "services/s117/register_csv.h"

namespace icr {
namespace {

std::vector<CsvRecord> Records(std::string_view text) {
  auto r = ParseCsv(text);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::vector<CsvRecord>{};
}

TEST(CsvRead, QuotedCellsLineBreaksAndLineNumbers) {
  const auto r = Records(
      "\xEF\xBB\xBF"
      "a,b,c\r\n1,\"x, \"\"y\"\"\",3\r\n\r\n2,\"two\nlines\",\n4,,\n");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].cells, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r[1].line, 2);
  EXPECT_EQ(r[1].cells[1], "x, \"y\"");
  EXPECT_EQ(r[2].line, 4);  // the blank line 3 is skipped
  EXPECT_EQ(r[2].cells[1], "two\nlines");
  EXPECT_EQ(r[3].line, 6);
  EXPECT_EQ(r[3].cells, (std::vector<std::string>{"4", "", ""}));
}

TEST(CsvRead, RefusesBrokenQuotes) {
  EXPECT_EQ(ParseCsv("a\n\"open").status().message(), "line 2: a quoted cell is never closed");
  EXPECT_EQ(ParseCsv("\"a\"b\n").status().message(), "line 1: text after a closing quote");
}

TEST(CsvRead, HeaderMatching) {
  const auto header = Records("NHS Number , Source-Ref\n")[0];
  auto cols = CsvColumns::Match(header, {"nhs_number", "source_ref", "x"}, {"nhs_number"});
  ASSERT_TRUE(cols.ok()) << cols.status();
  const auto row = Records("943 476 5919,R1\n")[0];
  EXPECT_EQ(cols->Get(row, "source_ref"), "R1");
  EXPECT_EQ(cols->Get(row, "x"), "");
  EXPECT_EQ(
      CsvColumns::Match(Records("nhs_number,colour\n")[0], {"nhs_number"}, {}).status().message(),
      "colour: not a column of this layout");
  EXPECT_EQ(
      CsvColumns::Match(Records("source_ref\n")[0], {"nhs_number", "source_ref"}, {"nhs_number"})
          .status()
          .message(),
      "nhs_number: a required column is missing");
  EXPECT_EQ(CsvColumns::Match(Records("a,A\n")[0], {"a"}, {}).status().message(),
            "A: appears twice in the header row");
}

TEST(CsvCells, DatesAndMoney) {
  EXPECT_EQ(*CsvDate("2024-03-01", "d"), "2024-03-01");
  EXPECT_EQ(*CsvDate("1/3/2024", "d"), "2024-03-01");
  EXPECT_EQ(*CsvDate("01/03/2024", "d"), "2024-03-01");
  EXPECT_EQ(*CsvDate("", "d"), "");
  EXPECT_FALSE(CsvDate("31/02/2024", "d").ok());
  EXPECT_FALSE(CsvDate("2024/03/01", "d").ok());
  EXPECT_EQ(*CsvPence("250.00", "m"), 25000);
  EXPECT_EQ(*CsvPence("\xC2\xA3"
                      "1,250.00",
                      "m"),
            125000);
  EXPECT_EQ(*CsvPence("\xA3"
                      "12.5",
                      "m"),
            1250);
  EXPECT_EQ(*CsvPence("40", "m"), 4000);
  for (const char* bad : {"", "12.345", "abc", "-5.00", "1.", "£", "10000000000"}) {
    EXPECT_FALSE(CsvPence(bad, "m").ok()) << bad;
  }
  EXPECT_EQ(CsvPounds(125005), "1250.05");
}

constexpr char kRegisterHeader[] =
    "Source_Ref,NHS_Number,Family_Name,Given_Name,Date_of_Birth,Qualifying_Section,"
    "Detention_Start_Date,Left_Hospital_Date,Detaining_Provider_Code,Council_Code,Council_Basis,"
    "ICB_Code,ICB_Basis,Registered_On,Effective_From,Last_Review_Date,Next_Review_Due,Services,"
    "End_Date,End_Reason\n";

// The first data row of `header` + `data`, read with a layout's header and row parsers.
template <class Row>
absl::StatusOr<Row> FirstRow(absl::StatusOr<CsvColumns> (*match)(const CsvRecord&),
                             absl::StatusOr<Row> (*parse)(const CsvColumns&, const CsvRecord&),
                             const std::string& text) {
  const auto records = Records(text);
  auto cols = match(records.at(0));
  EXPECT_TRUE(cols.ok()) << cols.status();
  return parse(*cols, records.at(1));
}

absl::StatusOr<v1::RegisterImportRow> RegisterRow(const std::string& data) {
  return FirstRow(s117::RegisterCsvHeader, s117::ParseRegisterRow, kRegisterHeader + data);
}

TEST(RegisterCsv, ReadsARowAsCouncilsKeepIt) {
  auto r = RegisterRow(
      "LIV-0042,943 476 5919,Smith,Ann,17/05/1980,s37/41,2023-01-10,03/06/2023,RW4,E08000012,"
      "or_england_s117_3a,QYG,core_gp_registration,2023-06-20,,2024-05-01,2025-05-01,"
      "\"HOME_CARE|Acme Care|£1,250.00|JOINT|60|2023-06-05|; supported accommodation|Housing "
      "Trust|700|COUNCIL||2023-06-05|2024-01-31|moved to Care Act|direct payment\",,\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->row(), 2);
  EXPECT_EQ(r->nhs_number(), "9434765919");
  EXPECT_EQ(r->date_of_birth(), "1980-05-17");
  EXPECT_EQ(r->qualifying_section(), "S37_41");
  EXPECT_EQ(r->left_hospital_date(), "2023-06-03");
  EXPECT_EQ(r->council().basis(), "OR_ENGLAND_S117_3A");
  ASSERT_EQ(r->services_size(), 2);
  const auto& joint = r->services(0);
  EXPECT_EQ(joint.weekly_cost_pence(), 125000);
  EXPECT_EQ(joint.council_pct(), 60);
  EXPECT_EQ(joint.icb_pct(), 40);
  EXPECT_TRUE(joint.is_s117());
  EXPECT_EQ(r->services(1).service_type(), "SUPPORTED_ACCOMMODATION");
  EXPECT_EQ(r->services(1).end_date(), "2024-01-31");
  EXPECT_EQ(r->services(1).end_reason(), "moved to Care Act");
  EXPECT_EQ(joint.delivery_mode(), "COMMISSIONED");  // the default
  EXPECT_EQ(r->services(1).delivery_mode(), "DIRECT_PAYMENT");
}

TEST(RegisterCsv, SpellingsOfSections) {
  for (auto [in, out] : std::vector<std::pair<const char*, const char*>>{{"S3", "S3"},
                                                                         {"s3", "S3"},
                                                                         {"3", "S3"},
                                                                         {"Section 3", "S3"},
                                                                         {"37/41", "S37_41"},
                                                                         {"S37 / 41", "S37_41"},
                                                                         {"s.37-41", "S37_41"},
                                                                         {"S37_41", "S37_41"},
                                                                         {"45a", "S45A"},
                                                                         {"47/49", "S47_49"},
                                                                         {"s48", "S48"}}) {
    auto s = s117::QualifyingSection(in, "qualifying_section");
    ASSERT_TRUE(s.ok()) << in << ": " << s.status();
    EXPECT_EQ(*s, out) << in;
  }
  EXPECT_FALSE(s117::QualifyingSection("S2", "q").ok());
  EXPECT_FALSE(s117::QualifyingSection("", "q").ok());
}

TEST(RegisterCsv, RefusalsNameTheField) {
  const std::string ok_head =
      "R1,9434765919,Smith,Ann,1980-05-17,S3,2023-01-10,2023-06-03,RW4,"
      "E08000012,OR_ENGLAND_S117_3A,QYG,CORE_GP_REGISTRATION,,,,,";
  auto msg = [&](const std::string& data) {
    auto r = RegisterRow(data);
    return r.ok() ? std::string("accepted") : std::string(r.status().message());
  };
  EXPECT_EQ(msg(ok_head + "HOME_CARE|Acme|lots|JOINT||2023-06-05|,,\n"),
            "services[0].weekly_cost: not an amount in pounds and pence (250.00 or £1,250.00): "
            "lots");
  EXPECT_EQ(
      msg(ok_head + "HOME_CARE|Acme|10|JOINT||2023-06-05|;HOME_CARE|B|1|PERSON||2023-06-05|,,\n"),
      "services[1].funder: COUNCIL, ICB or JOINT, not 'PERSON'");
  EXPECT_EQ(msg(ok_head + "HOME_CARE|Acme|10|COUNCIL|50|2023-06-05|,,\n"),
            "services[0].council_pct: only for a JOINT funder");
  EXPECT_EQ(msg(ok_head + "HOME_CARE|Acme|10,,\n"),
            "services[0]: expected type|provider|weekly cost|funder|council %|start|end|end "
            "reason|delivery mode (6 to 9 parts), found 3");
  EXPECT_EQ(msg(ok_head + ",2024-01-01,\n"),
            "end_reason: an end date and an end reason go together");
  EXPECT_EQ(msg("R1,9434765918,,,,S3,2023-01-10,,,E08000012,,QYG,,,,,,,,\n").substr(0, 11),
            "nhs_number:");
  EXPECT_EQ(msg("R1,9434765919,,,,S3,10.01.2023,,,E08000012,,QYG,,,,,,,,\n"),
            "detention_start_date: not a date (YYYY-MM-DD or DD/MM/YYYY): 10.01.2023");
  EXPECT_EQ(msg(",9434765919,,,,S3,2023-01-10,,,E08000012,,QYG,,,,,,,,\n"), "source_ref: required");
  EXPECT_EQ(msg(ok_head + ",,,extra\n"), "cells: 21 cells; the header has 20 columns");
  EXPECT_EQ(msg("R1,9434765919,,,,S3,2023-01-10\n"), "accepted");  // trailing cells dropped
}

TEST(RegisterCsv, DemoSampleParsesRowForRow) {
  icrctl::demo::Options o;
  o.people = 200;
  o.seed = 1;
  o.as_of = *ParseDate("2026-11-01");
  auto rows = icrctl::demo::SampleRegister(o);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), static_cast<size_t>(icrctl::demo::kSampleEntitlements));
  bool ended = false, joint = false;
  for (const auto& r : *rows) {
    ended |= !r.end_date().empty();
    for (const auto& s : r.services()) joint |= s.funder() == "JOINT";
    EXPECT_GT(std::stoll(r.nhs_number().substr(0, 9)), 999000000);
  }
  EXPECT_TRUE(ended);
  EXPECT_TRUE(joint);
  const auto records = Records(icrctl::demo::SampleRegisterCsv(*rows));
  ASSERT_EQ(records.size(), rows->size() + 1);
  auto cols = s117::RegisterCsvHeader(records[0]);
  ASSERT_TRUE(cols.ok()) << cols.status();
  for (size_t i = 1; i < records.size(); ++i) {
    auto parsed = s117::ParseRegisterRow(*cols, records[i]);
    ASSERT_TRUE(parsed.ok()) << "row " << records[i].line << ": " << parsed.status();
    auto expected = (*rows)[i - 1];
    for (auto& s : *expected.mutable_services()) {
      s.set_is_s117(true);
      s.set_need_arises_from_mental_disorder(true);
      s.set_need_ref("previous register " + expected.source_ref());
    }
    expected.set_row(records[i].line);
    EXPECT_EQ(parsed->SerializeAsString(), expected.SerializeAsString())
        << parsed->DebugString() << "\nvs\n"
        << expected.DebugString();
  }
}

constexpr char kPlanHeader[] =
    "source_ref,nhs_number,types,key_worker_name,key_worker_role,key_worker_org,"
    "acting_for_council_code,acting_for_icb_code,started_on,health_signed_by,health_signed_role,"
    "health_signed_org,health_signed_on,social_care_signed_by,social_care_signed_role,"
    "social_care_signed_org,social_care_signed_on,last_review_date,last_review_outcome,"
    "next_review_date,what_matters_to_me,needs,goals,interventions,crisis_warning_signs,"
    "crisis_contacts\n";

absl::StatusOr<v1::CarePlanImportRow> PlanRow(const std::string& data) {
  return FirstRow(careplan::PlanCsvHeader, careplan::ParsePlanRow, kPlanHeader + data);
}

TEST(PlanCsv, ReadsAJointS117Plan) {
  auto r = PlanRow(
      "CP-77,9434765919,S117;care act;NHS_PCSP,Jo Reid,Care coordinator,RW4,E08000012,QYG,"
      "02/01/2024,Dr Ama Osei,Consultant psychiatrist,RW4,2024-01-20,Pat Lee,Team manager,"
      "E08000012,22/01/2024,2024-12-10,continue,2025-12-01,Keeping my flat,"
      "Managing meals;Staying well,I want to cook again,"
      "\"Home support with meals|E08000012|Support worker|JOINT|yes;Care coordination|RW4|Care "
      "coordinator|ICB\",Not sleeping;Missing appointments,Crisis team|RW4|0300 555 0100\n");
  ASSERT_TRUE(r.ok()) << r.status();
  const auto& p = r->plan();
  EXPECT_TRUE(p.is_s117_aftercare_plan() && p.is_care_act_plan() && p.is_nhs_pcsp());
  EXPECT_EQ(r->started_on(), "2024-01-02");
  ASSERT_EQ(r->signoffs_size(), 2);
  EXPECT_EQ(r->signoffs(0).agency(), v1::CarePlanSignOff::HEALTH);
  EXPECT_EQ(r->signoffs(1).agency(), v1::CarePlanSignOff::SOCIAL_CARE);
  EXPECT_EQ(r->signoffs(1).signed_on(), "2024-01-22");
  ASSERT_EQ(r->reviews_size(), 1);
  EXPECT_EQ(r->reviews(0).outcome(), v1::CarePlanReview::CONTINUE);
  EXPECT_EQ(r->reviews(0).next_review_date(), "2025-12-01");
  EXPECT_EQ(p.review().next_review_date(), "2025-12-01");
  ASSERT_EQ(p.needs_size(), 2);
  EXPECT_EQ(p.needs(1).need_id(), "n2");
  ASSERT_EQ(p.interventions_size(), 2);
  EXPECT_EQ(p.interventions(0).funder(), v1::CarePlanIntervention::JOINT);
  EXPECT_TRUE(p.interventions(1).is_s117());  // empty: the plan is an S117 plan
  EXPECT_EQ(p.interventions(1).need_ids_size(), 2);
  EXPECT_EQ(p.crisis_plan().warning_signs_size(), 2);
  EXPECT_EQ(p.crisis_plan().contacts(0).telephone(), "0300 555 0100");
}

TEST(PlanCsv, TheLastReviewKeepsWhoTookPart) {
  const std::string head =
      "source_ref,nhs_number,types,last_review_date,last_review_outcome,"
      "last_review_participants\n";
  auto r = FirstRow(careplan::PlanCsvHeader, careplan::ParsePlanRow,
                    head + "CP-9,9434765919,S117,2025-03-01,CONTINUE,"
                           "Pat Lee|Team manager|E08000012;Dr Osei|Consultant|rw4;Ann Smith|Person|\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->reviews_size(), 1);
  const auto& who = r->reviews(0).participants();
  ASSERT_EQ(who.size(), 3);
  EXPECT_EQ(who[1].organisation_code(), "RW4");
  EXPECT_EQ(who[1].kind(), v1::CarePlanParticipant::PROFESSIONAL);
  EXPECT_EQ(who[2].kind(), v1::CarePlanParticipant::OTHER);
  auto bad = FirstRow(careplan::PlanCsvHeader, careplan::ParsePlanRow,
                      head + "CP-9,9434765919,S117,2025-03-01,CONTINUE,Pat Lee\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "last_review_participants[0]: expected name|role|organisation, found 'Pat Lee'");
}

TEST(PlanCsv, RefusalsNameTheField) {
  auto msg = [&](const std::string& data) {
    auto r = PlanRow(data);
    return r.ok() ? std::string("accepted") : std::string(r.status().message());
  };
  EXPECT_EQ(msg("CP-1,9434765919,PCSP\n"), "accepted");
  EXPECT_EQ(msg("CP-1,9434765919,CPA\n"), "types: 'CPA' is not S117, CARE_ACT or NHS_PCSP");
  EXPECT_EQ(msg("CP-1,9434765919,,\n"),
            "types: required: S117, CARE_ACT and/or NHS_PCSP, "
            "separated by ';'");
  EXPECT_EQ(msg("CP-1,9434765919,PCSP,,,,,,,Dr Osei\n"),
            "health_signed_on: required for a sign-off");
  EXPECT_EQ(msg("CP-1,9434765919,PCSP,,,,,,,,,,,,,,,,CONTINUE\n"),
            "last_review_date: required with last_review_outcome");
  EXPECT_EQ(msg("CP-1,9434765919,PCSP,,,,,,,,,,,,,,,2024-01-01,SOMETIMES\n"),
            "last_review_outcome: CONTINUE, MODIFY or RECOMMEND_CLOSURE, not 'SOMETIMES'");
  EXPECT_EQ(msg("CP-1,9434765919,PCSP,,,,,,,,,,,,,,,,,,,,,a|RW4|x|CHARITY\n"),
            "interventions[0].funder: COUNCIL, ICB, JOINT, OTHER or SELF, not 'CHARITY'");
  EXPECT_EQ(msg("CP-1,9434765919,PCSP,,,,,,31/13/2024\n"),
            "started_on: not a date (YYYY-MM-DD or DD/MM/YYYY): 31/13/2024");
}

}  // namespace
}  // namespace icr
