#include "services/performance/store.h"

#include <algorithm>

#include "services/performance/sql/statements.h"

namespace icr::perf {
namespace {
namespace sql = icr::performance::sql;

// Detail breakdowns: an indicator's own breakdown beyond the common ones (the values of
// perf.kpi_result.breakdown besides none, ethnicity, age_band and sex).
constexpr char kOverdueBand[] = "overdue_band";
constexpr char kEndReason[] = "end_reason";
constexpr char kQualifyingSection[] = "qualifying_section";

// An indicator and its unit query (sql/indicator_*.sql, aggregated by perf.kpi_results).
struct UnitQuery {
  const char* indicator_id;
  const Statement& unit;
  // The indicator's own breakdown, whose value for each row is the unit query's column
  // `detail`; nullptr when it has none (and then no `detail` column).
  const char* detail_breakdown = nullptr;
};

const UnitQuery kUnitQueries[] = {
    {"FU72", sql::kIndicatorFu72},
    {"KEYWORKER", sql::kIndicatorKeyworker},
    {"DETENTIONS", sql::kIndicatorDetentions},
    {"EMPLOYMENT", sql::kIndicatorEmployment},
    {"ACCOMMODATION", sql::kIndicatorAccommodation},
    {"EMPLOYMENT_RECORDED", sql::kIndicatorEmploymentRecorded},
    {"ACCOMMODATION_RECORDED", sql::kIndicatorAccommodationRecorded},
    {"SELF_DIRECTED", sql::kIndicatorSelfDirected},
    {"DIRECT_PAYMENTS", sql::kIndicatorDirectPayments},
    {"CARE_ACT_ASSESSMENTS", sql::kIndicatorCareActAssessments},
    {"CARE_ACT_DAYS", sql::kIndicatorCareActDays},
    {"CARERS_ASSESSED", sql::kIndicatorCarersAssessed},
    {"PLAN12", sql::kIndicatorPlan12},
    {"S117_ACTIVE", sql::kIndicatorS117Active, kQualifyingSection},
    {"S117_REGISTERED_28D", sql::kIndicatorS117Registered28d},
    {"S117_JOINT_PLAN", sql::kIndicatorS117JointPlan, kQualifyingSection},
    {"S117_PLAN_AT_DISCHARGE", sql::kIndicatorS117PlanAtDischarge, kQualifyingSection},
    {"S117_REVIEWED_12M", sql::kIndicatorS117Reviewed12m, kQualifyingSection},
    {"S117_OVERDUE", sql::kIndicatorS117Overdue, kOverdueBand},
    {"S117_ENDED", sql::kIndicatorS117Ended, kEndReason},
    {"S117_END_EXCEPTIONS", sql::kIndicatorS117EndExceptions, kQualifyingSection},
    {"S117_STALE", sql::kIndicatorS117Stale, kQualifyingSection},
    {"S117_COST_COUNCIL", sql::kIndicatorS117CostCouncil, kQualifyingSection},
    {"S117_COST_ICB", sql::kIndicatorS117CostIcb, kQualifyingSection},
    {"S117_SELF_DIRECTED", sql::kIndicatorS117SelfDirected, kQualifyingSection},
    {"S117_DISPUTES_3M", sql::kIndicatorS117Disputes3m, kQualifyingSection},
};

std::optional<double> Opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<double>();
}

StoredFigure FigureFromRow(const pqxx::row& r) {
  StoredFigure f;
  f.indicator_id = r[0].c_str();
  f.period_start = r[1].c_str();
  f.breakdown_value = r[2].c_str();
  f.raw.numerator = Opt(r[3]);
  f.raw.denominator = Opt(r[4]);
  f.raw.value = Opt(r[5]);
  f.computed_at_us = r[6].as<int64_t>();
  f.raw.kind = r[7].c_str();
  return f;
}

}  // namespace

const std::vector<std::string>& PerformanceStore::Breakdowns() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = {"none", "ethnicity", "age_band", "sex"};
    for (const auto& q : kUnitQueries) {
      if (q.detail_breakdown &&
          std::find(out.begin(), out.end(), q.detail_breakdown) == out.end()) {
        out.push_back(q.detail_breakdown);
      }
    }
    return out;
  }();
  return names;
}

std::vector<IndicatorDef> PerformanceStore::Indicators(pqxx::transaction_base& tx) {
  std::vector<IndicatorDef> out;
  for (const auto& r : Exec(tx, sql::kIndicators)) {
    IndicatorDef d;
    d.id = r[0].c_str();
    d.version = r[1].as<int>();
    d.name = r[2].c_str();
    d.owner = r[3].c_str();
    d.group = r[4].c_str();
    d.definition = r[5].c_str();
    d.unit = r[6].c_str();
    d.kind = r[7].c_str();
    d.direction = r[8].c_str();
    d.target = Opt(r[9]);
    for (const auto& q : kUnitQueries) {
      if (d.id == q.indicator_id && q.detail_breakdown) d.detail_breakdown = q.detail_breakdown;
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::string PerformanceStore::SharedPolicy(pqxx::transaction_base& tx) {
  return Exec(tx, sql::kSharedPolicy)[0][0].c_str();
}

std::vector<ResultRow> PerformanceStore::ComputeMonth(pqxx::transaction_base& tx,
                                                      const Month& month) {
  Exec(tx, sql::kComputeSettings);
  std::map<std::string, std::string> kinds;
  for (const auto& r : Exec(tx, sql::kKinds)) kinds[r[0].c_str()] = r[1].c_str();
  std::vector<ResultRow> rows;
  for (const auto& q : kUnitQueries) {
    auto kind = kinds.find(q.indicator_id);
    if (kind == kinds.end()) continue;  // retired indicator
    const std::optional<std::string> detail =
        q.detail_breakdown ? std::optional<std::string>(q.detail_breakdown) : std::nullopt;
    for (const auto& r :
         Exec(tx, sql::kCompute, FormatDate(month.first()), FormatDate(month.last()),
              q.indicator_id, kind->second, detail, q.unit.sql)) {
      auto opt = [&](int i) {
        return r[i].is_null() ? std::optional<std::string>() : std::string(r[i].c_str());
      };
      rows.emplace_back(r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].c_str(), r[4].c_str(),
                        r[5].c_str(), opt(6), opt(7), opt(8));
    }
  }
  return rows;
}

int64_t PerformanceStore::ReplaceMonth(pqxx::transaction_base& tx, const Month& month,
                                       const std::vector<ResultRow>& rows) {
  Exec(tx, sql::kDeleteMonth, FormatDate(month.first()));
  pqxx::stream_to out(tx, "perf.kpi_result",
                      std::vector<std::string>{"indicator_id", "period_start", "scope_type",
                                               "scope_code", "breakdown", "breakdown_value",
                                               "numerator", "denominator", "value"});
  for (const auto& row : rows) out << row;
  out.complete();
  return static_cast<int64_t>(rows.size());
}

std::vector<StoredFigure> PerformanceStore::Figures(pqxx::transaction_base& tx, const Month& month,
                                                    const std::string& scope_type,
                                                    const std::string& scope_code,
                                                    const std::string& breakdown) {
  std::vector<StoredFigure> out;
  for (const auto& r :
       Exec(tx, sql::kFigures, FormatDate(month.first()), scope_type, scope_code, breakdown)) {
    out.push_back(FigureFromRow(r));
  }
  return out;
}

std::vector<StoredFigure> PerformanceStore::Totals(pqxx::transaction_base& tx, const Month& from,
                                                   const Month& to, const std::string& scope_type,
                                                   const std::string& scope_code,
                                                   const std::string& indicator_id) {
  std::vector<StoredFigure> out;
  for (const auto& r : Exec(tx, sql::kTotals, FormatDate(from.first()), FormatDate(to.first()),
                            scope_type, scope_code, indicator_id)) {
    out.push_back(FigureFromRow(r));
  }
  return out;
}

std::vector<std::pair<std::string, StoredFigure>> PerformanceStore::AllFigures(
    pqxx::transaction_base& tx, const Month& from, const Month& to, const std::string& scope_type,
    const std::string& scope_code) {
  std::vector<std::pair<std::string, StoredFigure>> out;
  for (const auto& r : Exec(tx, sql::kAllFigures, FormatDate(from.first()), FormatDate(to.first()),
                            scope_type, scope_code)) {
    out.emplace_back(r[8].c_str(), FigureFromRow(r));
  }
  return out;
}

}  // namespace icr::perf
