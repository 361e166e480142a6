// Loads reference data files into core.organisation and core.organisation_successor
// (`icrctl refdata load`, README "Keeping reference data current"). Three layouts, told apart by
// the first row; lines starting with '#' are comments (a file's sources):
//  - organisations: header row code,kind,name,icb_code,opened_on,closed_on (dates YYYY-MM-DD,
//    empty opened_on: open since before any record, empty closed_on: open or closed by a
//    succession);
//  - successions: the ODS legacy successor file layout (succ.csv, no header row): predecessor
//    code, successor code, reason (F, O or R), effective date CCYYMMDD, indicator (F, X or
//    blank). Councils use the same five columns with GSS codes. The predecessor closes on the
//    effective date. A row naming two organisations the store does not know is skipped (the
//    national file covers every NHS body).
//  - successor areas: header row predecessor_code,successor_code,effective_on,postcode_district:
//    where a split body's people go, by postcode district (outward code), for the split's work
//    list (README "Keeping reference data current"); the succession must be loaded first.
// One transaction per file; a file with any refused row changes nothing. A rerun changes nothing.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/db.h"

namespace icr {

struct RefdataRow {
  int line = 0;
  std::string outcome;  // added, updated, unchanged, skipped, refused
  std::string field;    // refused: the column
  std::string message;  // refused: why; otherwise what ("QMJ -> Z9B2Z on 2026-04-01")
};

struct RefdataReport {
  std::string layout;  // organisations | successions | successor_areas
  std::vector<RefdataRow> rows;
  bool committed = false;  // false when a row was refused (nothing written)
  int Count(const std::string& outcome) const;
};

// INVALID_ARGUMENT for a file that is not CSV or has no rows; database errors as they come.
absl::StatusOr<RefdataReport> LoadRefdataFile(Database& db, const std::string& text);

}  // namespace icr
