#include "services/datasets/dataset_csv.h"

#include "services/common/csv.h"

namespace icr::datasets {

std::string TableName(std::string_view file_name) {
  const size_t slash = file_name.find_last_of("/\\");
  if (slash != std::string_view::npos) file_name.remove_prefix(slash + 1);
  const size_t dot = file_name.find_last_of('.');
  if (dot != std::string_view::npos && dot > 0) file_name = file_name.substr(0, dot);
  return std::string(file_name);
}

absl::StatusOr<Table> TableFromCsv(std::string_view name, std::string_view text) {
  Table table;
  table.name = TableName(name);
  auto records = ParseCsv(text);
  if (!records.ok()) {
    return absl::InvalidArgumentError(table.name + ": " + std::string(records.status().message()));
  }
  if (records->empty()) return table;
  table.columns = std::move((*records)[0].cells);
  for (size_t i = 1; i < records->size(); ++i) {
    auto& r = (*records)[i];
    if (r.cells.size() > table.columns.size()) {
      return absl::InvalidArgumentError(table.name + ": line " + std::to_string(r.line) +
                                        ": more cells than the header has columns");
    }
    table.rows.push_back(std::move(r.cells));
  }
  return table;
}

}  // namespace icr::datasets
