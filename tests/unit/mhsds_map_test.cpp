#include "services/datasets/mhsds_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "services/datasets/dataset_csv.h"
#include "tests/support/mhsds_fixture.h"

namespace icr::datasets {
namespace {

std::vector<Table> Month(bool resubmission) {
  std::vector<Table> tables;
  for (const auto& [file, text] : testing::MhsdsMonth(resubmission)) {
    auto t = TableFromCsv(file, text);
    EXPECT_TRUE(t.ok()) << t.status();
    tables.push_back(*t);
  }
  return tables;
}

const icr::v1::Event* FindEvent(const Mapped& m, const std::string& id) {
  for (const auto& e : m.events) {
    if (e.event_id() == id) return &e;
  }
  return nullptr;
}

TEST(MhsdsMap, ColumnsMatchCaseInsensitivelyAndThroughAliases) {
  EXPECT_EQ(MhsdsColumn("MHS101", "ServiceRequestId"), "servicerequestid");
  EXPECT_EQ(MhsdsColumn("MHS101", "SERVICEREQUESTID"), "servicerequestid");
  EXPECT_EQ(MhsdsColumn("MHS201", "AttendOrDNACode"), "attendstatus");
  EXPECT_EQ(MhsdsColumn("MHS502", "HospitalBedTypeMH"), "mhadmittedpatientclass");
  EXPECT_EQ(MhsdsColumn("MHS002", "GMPCodeReg"), "gmpreg");
  EXPECT_EQ(MhsdsColumn("MHS101", "AttendOrDNACode"), "attendordnacode");  // MHS201's only
  EXPECT_EQ(MhsdsTablePrefix("mhs101referral"), "MHS101");
  EXPECT_EQ(MhsdsTablePrefix("Referral"), "");
}

TEST(MhsdsMap, MapsTheMonth) {
  std::vector<Origin> origin;
  auto m = MapMhsds(Month(false), "rw4", &origin);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->sender_org, "RW4");
  EXPECT_EQ(m->period_start, "2026-10-01");
  EXPECT_EQ(m->period_end, "2026-10-31");
  EXPECT_EQ(m->rows_read.at("MHS001MPI"), 5);
  EXPECT_EQ(m->rows_read.at("MHS201CareContact"), 3);
  ASSERT_EQ(m->people.size(), 4u);  // P5 has no NHS number
  EXPECT_EQ(m->people[0].local_identifiers(0).system(), "RW4:MHSDS");
  ASSERT_EQ(origin.size(), m->events.size());

  const auto* admitted = FindEvent(*m, "MHS501:S2:admitted");
  ASSERT_NE(admitted, nullptr);
  EXPECT_EQ(admitted->admission().bed_type(), "200");  // v5 code 10
  EXPECT_EQ(admitted->nhs_number(), testing::kMhsdsP2);
  const auto* discharged = FindEvent(*m, "MHS501:S1:discharged");
  ASSERT_NE(discharged, nullptr);
  EXPECT_EQ(discharged->discharge().discharged_at().seconds(), 1791622800);  // 2026-10-10 09:00Z
  const auto* contact = FindEvent(*m, "MHS201:C2");
  ASSERT_NE(contact, nullptr);
  EXPECT_EQ(contact->care_contact().consultation_mechanism(), "02");
  EXPECT_TRUE(contact->care_contact().attended());
  EXPECT_EQ(contact->care_contact().team_type(), "A06");
  const auto* s3 = FindEvent(*m, "MHS401:L3:started");
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(s3->detention_start().legal_status_code(), "03");
  const auto* cto = FindEvent(*m, "MHS404:L3:started");
  ASSERT_NE(cto, nullptr);
  EXPECT_EQ(cto->cto_start().expiry_date(), "2027-04-02");
  ASSERT_NE(FindEvent(*m, "MHS001:P2:death"), nullptr);
  EXPECT_EQ(FindEvent(*m, "MHS001:P2:death")->death().date_of_death(), "2026-10-14");

  // Opening events come before the closes that name them; the death last.
  auto pos = [&](const std::string& id) {
    return std::find_if(m->events.begin(), m->events.end(),
                        [&](const auto& e) { return e.event_id() == id; }) -
           m->events.begin();
  };
  EXPECT_LT(pos("MHS501:S1:admitted"), pos("MHS501:S1:discharged"));
  EXPECT_LT(pos("MHS401:L2:ended"), pos("MHS001:P2:death"));
  EXPECT_EQ(origin[pos("MHS201:C1")].table, "MHS201CareContact");
  EXPECT_EQ(origin[pos("MHS201:C1")].row, 1);

  // Refused: P5 (no NHS number) and their referral; P1's informal period.
  std::map<std::string, std::string> refused;
  for (const auto& r : m->refused) refused[r.table + ":" + std::to_string(r.row)] = r.field;
  EXPECT_EQ(refused["MHS001MPI:5"], "NHSNumber");
  EXPECT_EQ(refused["MHS101Referral:5"], "LocalPatientId");
  EXPECT_EQ(refused["MHS401MHActPeriod:4"], "LegalStatusCode");
  EXPECT_EQ(m->refused.size(), 3u);
}

TEST(MhsdsMap, EventIdsAreStableAcrossResubmissions) {
  auto first = MapMhsds(Month(false), "RW4");
  auto again = MapMhsds(Month(true), "RW4");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(again->events.size() + 1, first->events.size());  // C3 dropped
  const auto* was = FindEvent(*first, "MHS501:S2:discharged");
  const auto* now = FindEvent(*again, "MHS501:S2:discharged");
  ASSERT_TRUE(was && now);
  EXPECT_EQ(now->discharge().discharged_at().seconds() - was->discharge().discharged_at().seconds(),
            -3 * 86400);
  EXPECT_EQ(FindEvent(*again, "MHS201:C3"), nullptr);
}

TEST(MhsdsMap, AnotherProvidersFileIsRefused) {
  auto m = MapMhsds(Month(false), "RXA");
  EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(m.status().message().find("OrgIDProvider"), std::string::npos);
}

TEST(MhsdsMap, AnotherProvidersRowIsRefused) {
  auto tables = Month(false);
  for (auto& t : tables) {
    if (t.name != "MHS101Referral") continue;
    t.columns.push_back("OrgIDProv");
    for (auto& r : t.rows) r.push_back("RW4");
    t.rows[0].back() = "RXA";
  }
  auto m = MapMhsds(tables, "RW4");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(FindEvent(*m, "MHS101:R1:opened"), nullptr);
  EXPECT_NE(FindEvent(*m, "MHS101:R2:opened"), nullptr);
  bool found = false;
  for (const auto& r : m->refused) found |= r.table == "MHS101Referral" && r.field == "OrgIDProv";
  EXPECT_TRUE(found);
}

TEST(MhsdsMap, HeaderAndPeriodAreRequired) {
  auto tables = Month(false);
  tables.erase(tables.begin());
  EXPECT_EQ(MapMhsds(tables, "RW4").status().code(), absl::StatusCode::kInvalidArgument);
  auto bad = Month(false);
  bad[0].rows[0][3] = "October";
  auto m = MapMhsds(bad, "RW4");
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("ReportingPeriodStartDate"), std::string::npos);
}

TEST(MhsdsMap, QualifyingLegalStatus) {
  EXPECT_TRUE(MhsdsS117Qualifying("03"));
  EXPECT_TRUE(MhsdsS117Qualifying("37"));
  EXPECT_FALSE(MhsdsS117Qualifying("02"));
}

TEST(DatasetCsv, TableFromCsv) {
  auto t = TableFromCsv("dir/MHS101Referral.csv", "A,B\n1,2\n3\n");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->name, "MHS101Referral");
  EXPECT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(TableFromCsv("x.csv", "A\n1,2\n").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace icr::datasets
