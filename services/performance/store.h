// The performance service's store: one unit query per indicator (sql/indicator_*.sql, a row per
// person or event with its breakdown attributes and numerator/denominator flags), aggregated for
// every organisation scope and breakdown by perf.kpi_results (db/functions/perf) and stored in
// perf.kpi_result; the stored figures read back (sql/*.sql).
#pragma once

#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <tuple>
#include <vector>

#include "services/common/db.h"
#include "services/performance/indicators.h"

namespace icr::perf {

struct IndicatorDef {
  std::string id;
  int version = 1;
  std::string name, owner, group, definition, unit, kind, direction;
  std::optional<double> target;
  // The indicator's own breakdown besides the common ones (e.g. "overdue_band"); empty if none.
  std::string detail_breakdown;
};

// One perf.kpi_result row: indicator, period start, scope type and code, breakdown and its
// value, then numerator, denominator and value (NULL when absent).
using ResultRow =
    std::tuple<std::string, std::string, std::string, std::string, std::string, std::string,
               std::optional<std::string>, std::optional<std::string>, std::optional<std::string>>;

struct StoredFigure {
  std::string indicator_id;
  std::string period_start;  // YYYY-MM-DD
  std::string breakdown_value;
  RawFigure raw;
  int64_t computed_at_us = 0;
};

class PerformanceStore {
 public:
  // Every breakdown a stored figure can have: none, ethnicity, age_band, sex, then each
  // indicator's own (detail) breakdown.
  static const std::vector<std::string>& Breakdowns();

  static std::vector<IndicatorDef> Indicators(pqxx::transaction_base& tx);
  static std::string SharedPolicy(pqxx::transaction_base& tx);

  // Every computable indicator's results for one month. Only reads, so it runs in a read-only
  // transaction that takes no transaction id and never holds back the change feed.
  static std::vector<ResultRow> ComputeMonth(pqxx::transaction_base& tx, const Month& month);
  // Replaces the stored results of one month with rows (a short write); returns the row count.
  static int64_t ReplaceMonth(pqxx::transaction_base& tx, const Month& month,
                              const std::vector<ResultRow>& rows);

  // Stored figures for one month, scope and breakdown.
  static std::vector<StoredFigure> Figures(pqxx::transaction_base& tx, const Month& month,
                                           const std::string& scope_type,
                                           const std::string& scope_code,
                                           const std::string& breakdown);
  // Total figures (breakdown none) of a scope over a range of months, for every indicator or
  // one (empty id = all), ordered by indicator then month.
  static std::vector<StoredFigure> Totals(pqxx::transaction_base& tx, const Month& from,
                                          const Month& to, const std::string& scope_type,
                                          const std::string& scope_code,
                                          const std::string& indicator_id);
  // Every stored figure of a scope in a range of months, all breakdowns, for CSV.
  static std::vector<std::pair<std::string, StoredFigure>> AllFigures(
      pqxx::transaction_base& tx, const Month& from, const Month& to, const std::string& scope_type,
      const std::string& scope_code);
};

}  // namespace icr::perf
