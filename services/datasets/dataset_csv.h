// A table of a dataset file from CSV text: a per-table CSV export of an MHSDS Intermediate
// Database (the file name is the table name), or a council's CLD return. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/datasets/dataset.h"

namespace icr::datasets {

// The table named `name` (a file name's extension and folders dropped: "x/MHS101Referral.csv"
// -> "MHS101Referral") whose first record is the header. INVALID_ARGUMENT naming the table and
// line for a malformed CSV or a row wider than the header.
absl::StatusOr<Table> TableFromCsv(std::string_view name, std::string_view text);

// The table name a file name stands for: folders and the extension dropped.
std::string TableName(std::string_view file_name);

}  // namespace icr::datasets
