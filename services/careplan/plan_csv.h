// The care plan import's CSV layout (README "Bringing care plans over"): one row per plan with
// its types, key worker, sign-offs and last review, read into an icr.v1.CarePlanImportRow for
// CarePlanService.ImportCarePlans. Pure: the client parses the file, the server checks the plan
// as on create and the dates against the record.
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "icr/v1/careplan.pb.h"
#include "services/common/csv.h"

namespace icr::careplan {

// The layout's columns, in the order the README gives them.
const std::vector<std::string_view>& PlanCsvColumns();

// The header row matched against the layout: INVALID_ARGUMENT naming an unknown, repeated or
// missing required column.
absl::StatusOr<CsvColumns> PlanCsvHeader(const CsvRecord& header);

// One data row as the import request (row = the line it starts on), or INVALID_ARGUMENT
// "field: reason" naming the column ("interventions[0].funder: ...").
absl::StatusOr<icr::v1::CarePlanImportRow> ParsePlanRow(const CsvColumns& columns,
                                                        const CsvRecord& row);

}  // namespace icr::careplan
