// A trust's MHSDS month (the Intermediate Database's tables, or per-table CSV exports of it) as
// the record's people and events (national-datasets.md section 1). Pure: no database.
//
// Tables are found by their MHS### prefix ("MHS101Referral", "mhs101"), columns by their short
// name case-insensitively (v5 "ServiceRequestId" = v6 "ServiceRequestID") and through the alias
// table of renamed items (v5 "AttendOrDNACode" = v6 "AttendStatus"). Event ids are built from
// the file's local ids (ServiceRequestID, HospProvSpellID, MHActLegalStatusClassPeriodID,
// CareContactID, ...) so they are the same when the month is sent again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "services/datasets/dataset.h"

namespace icr::datasets {

// The MHSDS short name a column header stands for, in lower case: "LocalPatientId" and
// "LOCALPATIENTID" -> "localpatientid"; v5 names renamed in v6 -> the v6 name
// ("AttendOrDNACode" -> "attendstatus"). `table` is the MHS### prefix (some aliases hold in one
// table only).
std::string MhsdsColumn(std::string_view table, std::string_view header);

// The MHS### prefix of a table name ("MHS101Referral" -> "MHS101"), "" when it has none.
std::string MhsdsTablePrefix(std::string_view name);

// Maps the file's tables. `sender_org` is the trust that holds the token: the header's
// OrgIDProvider (and any row's OrgIDProv) must be it (FAILED_PRECONDITION for the header; the
// row is refused). INVALID_ARGUMENT naming the table/field when there is no MHS000 header or no
// reporting period. Rows that cannot be mapped are refused alone (Mapped.refused).
// `event_origin` (optional) receives one Origin per Mapped.events entry, and `person_origin`
// one per Mapped.people entry.
absl::StatusOr<Mapped> MapMhsds(const std::vector<Table>& tables, const std::string& sender_org,
                                std::vector<Origin>* event_origin = nullptr,
                                std::vector<Origin>* person_origin = nullptr);

// Whether an MHS401 legal status code is a detention after which s117 applies (s3, s37, s45A,
// s47, s48, with or without restrictions: 03, 09, 10, 15-18, 37, 38).
bool MhsdsS117Qualifying(std::string_view legal_status_code);

// The family name given to a person an MHSDS file creates (the dataset carries no names).
inline constexpr char kMhsdsNoName[] = "Not known (MHSDS)";

}  // namespace icr::datasets
