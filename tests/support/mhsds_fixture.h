// A synthetic MHSDS month of trust RW4 (October 2026) as per-table CSV texts, and its
// resubmission, for the mapper's unit test and the dataset import's integration test. Column
// spellings mix v6 ("LocalPatientID") and v5 ("ServiceRequestId", "AttendOrDNACode") on purpose.
//
// People: P1 admitted 2 Oct, discharged 10 Oct, seen face to face on the day of discharge;
// P2 discharged 12 Oct and died 14 Oct (within 3 days); P3 under s2 from 1 Oct, then s3 from
// 5 Oct to discharge on 20 Oct (an S117 candidate); P4 off s3 onto a CTO on 3 Oct (an S117
// candidate); P5 has no NHS number (their rows are refused). P1 also has an informal period
// (not a detention: refused) and P3 a care coordinator.
// The resubmission moves P2's discharge to 9 Oct, 5 days before the death (a correction), and
// drops contact C3 (a retraction); everything else is sent again unchanged.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace icr::testing {

inline constexpr char kMhsdsP1[] = "9434765919";
inline constexpr char kMhsdsP2[] = "9434765927";
inline constexpr char kMhsdsP3[] = "9434765935";
inline constexpr char kMhsdsP4[] = "9434765943";

// (file name, CSV text) of each table.
inline std::vector<std::pair<std::string, std::string>> MhsdsMonth(bool resubmission) {
  std::vector<std::pair<std::string, std::string>> t;
  t.emplace_back("MHS000Header.csv",
                 "DatSetVer,OrgIDProvider,OrgIDSubmit,ReportingPeriodStartDate,"
                 "ReportingPeriodEndDate\n6.0,RW4,RW4,2026-10-01,2026-10-31\n");
  t.emplace_back("MHS001MPI.csv",
                 "LocalPatientID,OrgIDLocalPatientID,NHSNumber,PersonBirthDate,Postcode,Gender,"
                 "EthnicCategory,PersDeathDate\n"
                 "P1,RW4,9434765919,1980-01-01,L1 1AA,1,A,\n"
                 "P2,RW4,9434765927,1950-02-02,L2 2BB,2,B,2026-10-14\n"
                 "P3,RW4,9434765935,1990-03-03,L3 3CC,1,M,\n"
                 "P4,RW4,9434765943,1975-04-04,L4 4DD,2,Z,\n"
                 "P5,RW4,,1999-05-05,L5 5EE,9,99,\n");
  t.emplace_back("MHS902ServiceTeamDetails.csv",
                 "CareProfTeamLocalID,ServTeamTypeMH\nT1,A06\nT2,A02\n");
  t.emplace_back("MHS101Referral.csv",
                 "ServiceRequestId,LocalPatientId,ReferralRequestReceivedDate,SourceOfReferralMH,"
                 "CareProfTeamLocalID,ServDischDate\n"
                 "R1,P1,2026-09-01,A1,T1,\n"
                 "R2,P2,2026-09-02,A1,T1,\n"
                 "R3,P3,2026-09-03,H1,T1,\n"
                 "R4,P4,2026-08-04,A1,T1,\n"
                 "R5,P5,2026-09-05,A1,T1,\n");
  std::string contacts =
      "CareContactId,ServiceRequestId,CareContDate,AttendOrDNACode,ConsMechanismMH\n"
      "C1,R1,2026-10-10,5,01\n"
      "C2,R3,2026-10-22,5,2\n";
  if (!resubmission) contacts += "C3,R1,2026-10-03,3,01\n";
  t.emplace_back("MHS201CareContact.csv", contacts);
  t.emplace_back("MHS501HospProvSpell.csv",
                 std::string("HospProvSpellID,ServiceRequestID,StartDateHospProvSpell,"
                             "StartTimeHospProvSpell,DischDateHospProvSpell,DischTimeHospProvSpell,"
                             "MethOfDischMHHospProvSpell,DestOfDischHospProvSpell\n"
                             "S1,R1,2026-10-02,10:00,2026-10-10,09:00:00,1,19\n") +
                     (resubmission ? "S2,R2,2026-10-05,11:00,2026-10-09,12:00,1,19\n"
                                   : "S2,R2,2026-10-05,11:00,2026-10-12,12:00,1,19\n") +
                     "S3,R3,2026-10-01,08:00,2026-10-20,15:00,1,19\n");
  t.emplace_back("MHS502WardStay.csv",
                 "WardStayID,HospProvSpellID,StartDateWardStay,HospitalBedTypeMH\n"
                 "W1,S1,2026-10-02,200\nW2,S2,2026-10-05,10\nW3,S3,2026-10-01,202\n");
  t.emplace_back("MHS401MHActPeriod.csv",
                 "MHActLegalStatusClassPeriodID,LocalPatientID,LegalStatusCode,"
                 "StartDateMHActLegalStatusClass,StartTimeMHActLegalStatusClass,"
                 "EndDateMHActLegalStatusClass,EndTimeMHActLegalStatusClass\n"
                 "L1,P3,02,2026-10-01,08:00,2026-10-05,09:00\n"
                 "L2,P3,03,2026-10-05,09:00,2026-10-20,15:00\n"
                 "L3,P4,3,2026-08-01,10:00,2026-10-03,10:00\n"
                 "L4,P1,01,2026-10-02,10:00,,\n");
  t.emplace_back("MHS404CommTreatOrder.csv",
                 "MHActLegalStatusClassPeriodID,StartDateCommTreatOrd,ExpiryDateCommTreatOrd,"
                 "EndDateCommTreatOrd\nL3,2026-10-03,2027-04-02,\n");
  t.emplace_back("MHS003AccommStatus.csv",
                 "LocalPatientID,AccommodationType,AccommodationTypeDate\nP1,03,2026-10-10\n");
  t.emplace_back("MHS004EmpStatus.csv",
                 "LocalPatientID,EmployStatus,EmployStatusRecDate,WeekHoursWorked\n"
                 "P1,02,2026-10-10,\n");
  t.emplace_back("MHS006MHCareCoord.csv",
                 "LocalPatientID,CareProfLocalID,StartDateAssCareCoord,EndDateAssCareCoord\n"
                 "P3,CP1,2026-10-20,\n");
  t.emplace_back("MHS008CarePlanType.csv",
                 "CarePlanID,LocalPatientID,CarePlanTypeMH,CarePlanCreatDate\n"
                 "CPL1,P3,10,2026-10-20\n");
  return t;
}

}  // namespace icr::testing
