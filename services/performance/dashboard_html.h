// The dashboard's pages as HTML with inline SVG charts (sparklines, XmR charts), rendered from the
// PerformanceService's own messages. Pure functions: no I/O, no JavaScript, no external resources,
// every text HTML-escaped. Tiles carry data attributes (data-indicator, data-value) for tests.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "icr/v1/performance.pb.h"

namespace icr::perf::html {

std::string Escape(std::string_view text);
// Percent-encoding for one query-string value.
std::string UrlEncode(std::string_view text);

// "2026-10" -> "October 2026" (unchanged when not a month).
std::string MonthLabel(const std::string& month);
// A displayed value with its unit: "82.4%", "12", "4.5 days", "£1,200.00 a week" (money exact
// to the penny, with thousands separators); "*" stays "*".
std::string WithUnit(const std::string& value, const std::string& unit);
// The same in parts: what goes before the number ("£", "-£"), the number as shown, and after.
struct ValueParts {
  std::string before, number, after;
};
ValueParts ShownParts(const std::string& value, const std::string& unit);
// The SPC signal in words: "Improvement", "Concern", "Common cause", "Special cause",
// "Too few points".
std::string SignalLabel(const std::string& signal);

// One entry of the organisation filter: value "all" or "provider:RGD", a label, and the
// <optgroup> it belongs to ("" for none).
struct ScopeOption {
  std::string value;
  std::string label;
  std::string group;
};

// What every page shows around its content: the caller, and the month and scope filters.
struct PageContext {
  std::string user_org;       // code
  std::string user_org_name;  // may be empty
  std::string user_role;
  std::string month;                // selected, YYYY-MM
  std::vector<std::string> months;  // offered in the filter, newest first
  std::string scope;                // selected, "all" or "kind:CODE"
  std::string scope_label;          // "All of England" or the organisation's name
  std::vector<ScopeOption> scopes;
};

// The ethnicity and council breakdowns of one indicator.
struct CouncilRow {
  std::string code;
  std::string name;
  icr::v1::Figure figure;  // the council's total for the month, with its SPC signal
};

std::string LoginPage(const std::string& error, const std::string& next);
std::string ErrorPage(const std::string& title, const std::string& message,
                      const PageContext* context);

// Overview: a tile per indicator, grouped health / social care / S117. `series` holds each
// indicator's 24-month series (by indicator id) for the sparklines; missing ones draw none.
// `on_tiles` holds breakdown figures listed compactly on their indicator's tile (the dashboard
// passes S117_OVERDUE's overdue bands).
std::string OverviewPage(const PageContext& context, const icr::v1::Dashboard& dashboard,
                         const std::map<std::string, icr::v1::Series>& series,
                         const icr::v1::Dashboard& on_tiles);

// One indicator: key figures, the XmR chart of `series`, and breakdown tables: the indicator's
// own breakdown (`by_detail`, GetDashboard with the indicator's detail_breakdown; unused when it
// has none), ethnicity and council.
std::string IndicatorPage(const PageContext& context, const icr::v1::Series& series,
                          const icr::v1::Dashboard& by_ethnicity,
                          const icr::v1::Dashboard& by_detail,
                          const std::vector<CouncilRow>& councils);

// Charts, exposed for tests.
std::string Sparkline(const icr::v1::Series& series);
std::string XmrChart(const icr::v1::Series& series);

}  // namespace icr::perf::html
