// The register import's CSV layout (README "Bringing a register over"): one row per entitlement
// as a council's spreadsheet keeps it, read into an icr.v1.RegisterImportRow for
// S117RegisterService.ImportRegister. Pure: the client parses the file, the server checks the
// facts against the record.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "icr/v1/s117.pb.h"
#include "services/common/csv.h"

namespace icr::s117 {

// The layout's columns, in the order the sample and the README give them.
const std::vector<std::string_view>& RegisterCsvColumns();

// The header row matched against the layout: INVALID_ARGUMENT naming an unknown, repeated or
// missing required column.
absl::StatusOr<CsvColumns> RegisterCsvHeader(const CsvRecord& header);

// One data row as the import request (row = the line it starts on), or INVALID_ARGUMENT
// "field: reason" naming the column ("services[1].weekly_cost: not an amount ...").
absl::StatusOr<icr::v1::RegisterImportRow> ParseRegisterRow(const CsvColumns& columns,
                                                            const CsvRecord& row);

// A qualifying section as councils write it ("s3", "Section 37/41", "37-41", "S47_49") in the
// register's spelling (S3, S37, S37_41, S45A, S47, S47_49, S48, S48_49), or INVALID_ARGUMENT
// naming `field`.
absl::StatusOr<std::string> QualifyingSection(std::string_view cell, std::string_view field);

// One entitlement as a row of the layout, cells in RegisterCsvColumns() order (the demo's
// sample file; the inverse of ParseRegisterRow).
std::vector<std::string> RegisterCsvCells(const icr::v1::RegisterImportRow& row);

}  // namespace icr::s117
