#include "services/performance/dashboard_html.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <functional>
#include <optional>
#include <tuple>

#include "services/common/url.h"
#include "services/common/money.h"

namespace icr::perf::html {
namespace {

// NHS identity colours (https://www.england.nhs.uk/nhsidentity/identity-guidelines/colours/).
constexpr const char* kNhsBlue = "#005EB8";
constexpr const char* kDarkGrey = "#425563";
constexpr const char* kMidGrey = "#768692";
constexpr const char* kRed = "#DA291C";
constexpr const char* kPurple = "#330072";
const char* const kMonthNames[] = {"January",   "February", "March",    "April",
                                   "May",       "June",     "July",     "August",
                                   "September", "October",  "November", "December"};

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  return s == "-0" || s == "-0.0" ? s.substr(1) : s;
}

std::optional<std::pair<int, int>> ParseYearMonth(const std::string& month) {
  int y = 0, m = 0;
  if (month.size() != 7 || std::sscanf(month.c_str(), "%4d-%2d", &y, &m) != 2 || m < 1 || m > 12) {
    return std::nullopt;
  }
  return std::make_pair(y, m);
}

// "Oct 2026"
std::string ShortMonth(const std::string& month) {
  auto ym = ParseYearMonth(month);
  if (!ym) return month;
  return std::string(kMonthNames[ym->second - 1]).substr(0, 3) + " " + std::to_string(ym->first);
}

std::string Attr(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + Escape(value) + "\"";
}

std::string Query(const PageContext& c) {
  return "?month=" + UrlEncode(c.month) + "&amp;scope=" + UrlEncode(c.scope);
}

std::string GroupTitle(const std::string& group) {
  if (group == "health") return "Health";
  if (group == "social_care") return "Social care";
  if (group == "s117") return "Section 117 aftercare";
  return group;
}

int GroupRank(const std::string& group) {
  if (group == "health") return 0;
  if (group == "social_care") return 1;
  if (group == "s117") return 2;
  return 3;
}

std::string DirectionText(icr::v1::Direction d) {
  switch (d) {
    case icr::v1::HIGHER_IS_BETTER:
      return "Higher is better";
    case icr::v1::LOWER_IS_BETTER:
      return "Lower is better";
    default:
      return "No preferred direction";
  }
}

struct SignalText {
  const char* label;
  const char* description;
};

SignalText SignalWords(const std::string& signal) {
  if (signal == "improvement") return {"Improvement", "Special cause variation: improving"};
  if (signal == "concern") return {"Concern", "Special cause variation: concerning"};
  if (signal == "special_cause") {
    return {"Special cause", "Special cause variation (no preferred direction)"};
  }
  if (signal == "none") return {"Common cause", "Common cause variation: no significant change"};
  return {"Too few points", "Fewer than 12 months of data: no judgement on variation yet"};
}

std::string SignalDescription(const std::string& signal) { return SignalWords(signal).description; }

std::string SignalClass(const std::string& signal) {
  if (signal == "improvement" || signal == "concern" || signal == "special_cause" ||
      signal == "none") {
    return "spc-" + signal;
  }
  return "spc-insufficient";
}

std::string SignalBadge(const std::string& signal) {
  return "<span class=\"badge " + SignalClass(signal) + "\"" +
         Attr("title", SignalDescription(signal)) + ">" + Escape(SignalLabel(signal)) + "</span>";
}

// Whether the figure meets its target, by the indicator's direction; nullopt when either is
// missing.
std::optional<bool> MeetsTarget(const icr::v1::Indicator& ind, const icr::v1::Figure& f) {
  if (!ind.has_target() || !f.has_value()) return std::nullopt;
  if (ind.direction() == icr::v1::LOWER_IS_BETTER) return f.raw_value() <= ind.target();
  return f.raw_value() >= ind.target();
}

std::string TargetText(const icr::v1::Indicator& ind) {
  return WithUnit(Fixed(ind.target(), ind.target() == std::floor(ind.target()) ? 0 : 1),
                  ind.unit());
}

std::string TargetBadge(const icr::v1::Indicator& ind, const icr::v1::Figure* f) {
  if (!ind.has_target()) return "<span class=\"badge target-none\">No target</span>";
  const std::string target = "Target " + TargetText(ind);
  auto meets = f ? MeetsTarget(ind, *f) : std::nullopt;
  if (!meets) return "<span class=\"badge target-none\">" + Escape(target) + "</span>";
  return *meets ? "<span class=\"badge target-met\">" + Escape(target) + ": met</span>"
                : "<span class=\"badge target-missed\">" + Escape(target) + ": not met</span>";
}

std::string DisclosureNote(const std::string& policy) {
  if (policy == "mhsds") {
    return "These figures are shared across organisations, so disclosure control applies (MHSDS "
           "rule): counts below 5 are shown as *, other counts are rounded to the nearest 5, and a "
           "percentage is shown as * when its numerator or denominator is below 5.";
  }
  if (policy == "strict") {
    return "These figures are shared across organisations, so disclosure control applies (strict "
           "rule): counts from 1 to 7 are shown as *, other counts are rounded to the nearest 5, "
           "and percentages are calculated from the rounded counts.";
  }
  return "These figures are unrounded: they are England-level totals, or your own organisation's "
         "data.";
}

std::string ComputedAt(const google::protobuf::RepeatedPtrField<icr::v1::Figure>& figures) {
  int64_t latest = 0;
  for (const auto& f : figures) latest = std::max<int64_t>(latest, f.computed_at().seconds());
  if (latest == 0) return "";
  std::time_t t = static_cast<std::time_t>(latest);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%d %b %Y %H:%M UTC", &tm);
  return buf;
}

// ---- page frame ----

constexpr const char* kStyle = R"CSS(
*{box-sizing:border-box}
html{font-size:16px}
body{margin:0;background:#F0F4F5;color:#212B32;font-family:Arial,"Helvetica Neue",Helvetica,"Liberation Sans","DejaVu Sans",sans-serif;line-height:1.45}
a{color:#005EB8}
a:visited{color:#330072}
a:hover{color:#7C2855}
a:focus,button:focus,select:focus,input:focus,summary:focus{outline:4px solid transparent;background:#FFB81C;color:#212B32;box-shadow:0 -2px #FFB81C,0 4px #212B32;text-decoration:none}
select:focus,input:focus{background:#fff;box-shadow:inset 0 0 0 2px #212B32;outline:4px solid #FFB81C;outline-offset:0}
.skip{position:absolute;left:-9999px}
.skip:focus{left:8px;top:8px;padding:8px;z-index:2}
.wrap{max-width:1560px;margin:0 auto;padding:0 24px}
header.bar{background:#005EB8;color:#fff}
header.bar .wrap{display:flex;align-items:center;justify-content:space-between;gap:16px;min-height:72px;flex-wrap:wrap}
.service{font-size:1.25rem;font-weight:700;letter-spacing:.01em}
.service small{display:block;font-size:.9rem;font-weight:400;opacity:.95}
.who{font-size:.95rem}
.who a{color:#fff;font-weight:700;margin-left:12px}
.who a:focus{color:#212B32}
main{padding:24px 0 48px}
h1{font-size:2rem;line-height:1.2;margin:8px 0 4px}
h2{font-size:1.45rem;margin:32px 0 12px;padding-bottom:6px;border-bottom:3px solid #005EB8}
h3{font-size:1.05rem;margin:0 0 8px;line-height:1.3}
.lede{font-size:1.2rem;color:#425563;margin:0 0 16px}
.crumb{margin:0 0 8px}
.filters{display:flex;flex-wrap:wrap;align-items:flex-end;gap:16px 20px;background:#fff;border:1px solid #D8DDE0;border-radius:4px;padding:16px 20px;margin:8px 0 8px}
.filters label{display:block;font-weight:700;margin-bottom:4px}
.filters select{font:inherit;font-size:1rem;min-height:40px;padding:4px 8px;border:2px solid #4C6272;border-radius:0;background:#fff;color:#212B32;max-width:460px}
.button{display:inline-block;font:inherit;font-weight:700;font-size:1rem;min-height:40px;padding:8px 18px;border:0;border-radius:4px;background:#007F3B;color:#fff;box-shadow:0 4px 0 #00401E;cursor:pointer;text-decoration:none}
a.button:visited{color:#fff}
.button.secondary{background:#4C6272;box-shadow:0 4px 0 #263139}
.filters .spacer{flex:1}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:16px}
.tile{background:#fff;border:1px solid #D8DDE0;border-top:5px solid #005EB8;border-radius:4px;padding:14px 16px 10px;display:flex;flex-direction:column;min-height:236px}
.tile h3 a{color:#212B32;text-decoration:none}
.tile h3 a:hover{text-decoration:underline}
.tile .value{font-size:2.6rem;font-weight:700;line-height:1.05;margin:2px 0 2px;color:#212B32}
.tile .value .unit{font-size:1.5rem;margin-left:2px;color:#425563}
.tile .value.none{color:#768692}
.tile .counts{margin:0 0 8px;color:#4C6272;font-size:.95rem;min-height:1.4em}
.tile .parts{display:flex;flex-wrap:wrap;gap:2px 14px;margin:-4px 0 8px;padding:0;list-style:none;color:#4C6272;font-size:.9rem}
.tile .parts strong{color:#212B32}
.badges{display:flex;flex-wrap:wrap;gap:6px;margin:0 0 8px}
.badge{display:inline-block;font-size:.85rem;font-weight:700;padding:3px 8px;border-radius:3px;border:2px solid transparent;white-space:nowrap}
.target-met{background:#007F3B;color:#fff}
.target-missed{background:#DA291C;color:#fff}
.target-none{background:#fff;color:#425563;border-color:#AEB7BD}
.spc-improvement{background:#005EB8;color:#fff}
.spc-concern{background:#DA291C;color:#fff}
.spc-special_cause{background:#330072;color:#fff}
.spc-none{background:#425563;color:#fff}
.spc-insufficient{background:#fff;color:#425563;border-color:#AEB7BD}
.spark{display:block;width:100%;height:52px;margin-top:auto}
.glance{display:flex;flex-wrap:wrap;gap:8px 28px;margin:16px 0 0;padding:0;list-style:none;font-size:1.05rem}
.glance strong{font-size:1.3rem}
.note{color:#4C6272;font-size:.95rem;max-width:80ch}
.keyfigs{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:16px;margin:16px 0}
.kf{background:#fff;border:1px solid #D8DDE0;border-top:5px solid #005EB8;border-radius:4px;padding:12px 16px}
.kf .label{display:block;color:#4C6272;font-weight:700;font-size:.95rem}
.kf .big{display:block;font-size:2.2rem;font-weight:700;line-height:1.15}
.kf .big .badge{font-size:1.1rem;vertical-align:middle}
.kf .sub{display:block;color:#4C6272;font-size:.95rem}
.panel{background:#fff;border:1px solid #D8DDE0;border-radius:4px;padding:16px 20px}
.chart{display:block;width:100%;height:auto}
.legend{list-style:none;margin:8px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:6px 20px;font-size:.95rem;color:#212B32}
.legend svg{vertical-align:middle;margin-right:6px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:1rem}
caption{text-align:left;font-weight:700;font-size:1.05rem;padding:0 0 8px}
th,td{text-align:left;padding:8px 12px;border-bottom:1px solid #D8DDE0;vertical-align:top}
thead th{border-bottom:2px solid #425563}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;width:1%;white-space:nowrap}
tr.current td{background:#FFF6DB}
details{margin-top:12px}
summary{cursor:pointer;color:#005EB8;font-weight:700}
.two{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:24px}
.login{max-width:560px;background:#fff;border:1px solid #D8DDE0;border-radius:4px;padding:24px 28px;margin-top:24px}
.login label{display:block;font-weight:700;font-size:1.1rem;margin-bottom:4px}
.login .hint{color:#4C6272;margin:0 0 8px}
.login input{font:inherit;font-size:1rem;width:100%;min-height:44px;padding:6px 8px;border:2px solid #4C6272;margin-bottom:20px}
.error-summary{border:4px solid #DA291C;padding:12px 16px;margin:0 0 20px;background:#fff}
.error-summary h2{border:0;margin:0 0 4px;font-size:1.2rem;padding:0}
footer.foot{border-top:1px solid #D8DDE0;margin-top:40px;padding-top:12px}
@media print{header.bar{background:#fff;color:#212B32;border-bottom:3px solid #005EB8}.filters{display:none}body{background:#fff}}
)CSS";

std::string Header(const PageContext* c) {
  std::string h =
      "<header class=\"bar\"><div class=\"wrap\"><div class=\"service\">Mental health "
      "performance<small>Integrated care record: joint health and social care "
      "indicators</small></div>";
  if (c) {
    std::string who =
        c->user_org_name.empty() ? c->user_org : c->user_org_name + " (" + c->user_org + ")";
    std::string role = c->user_role;
    std::replace(role.begin(), role.end(), '_', ' ');
    h += "<div class=\"who\">Signed in: " + Escape(who) + ", " + Escape(role) +
         "<a href=\"/logout\">Sign out</a></div>";
  }
  return h + "</div></header>";
}

std::string Page(const std::string& title, const std::string& body, const PageContext* c) {
  return "<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<link rel=\"icon\" href=\"data:,\"><title>" +
         Escape(title) + "</title><style>" + kStyle + "</style></head><body>" +
         "<a class=\"skip\" href=\"#main\">Skip to main content</a>" + Header(c) +
         "<main id=\"main\"><div class=\"wrap\">" + body + "</div></main></body></html>\n";
}

std::string Filters(const PageContext& c, const std::string& action) {
  std::string f = "<form class=\"filters\" method=\"get\"" + Attr("action", action) + ">";
  f += "<div><label for=\"month\">Month</label><select id=\"month\" name=\"month\">";
  std::vector<std::string> months = c.months;
  if (std::find(months.begin(), months.end(), c.month) == months.end())
    months.insert(months.begin(), c.month);
  for (const auto& m : months) {
    f += "<option" + Attr("value", m) + (m == c.month ? " selected" : "") + ">" +
         Escape(MonthLabel(m)) + "</option>";
  }
  f += "</select></div><div><label for=\"scope\">Organisation</label><select id=\"scope\" "
       "name=\"scope\">";
  std::string group;
  for (const auto& o : c.scopes) {
    if (o.group != group) {
      if (!group.empty()) f += "</optgroup>";
      group = o.group;
      if (!group.empty()) f += "<optgroup" + Attr("label", group) + ">";
    }
    f += "<option" + Attr("value", o.value) + (o.value == c.scope ? " selected" : "") + ">" +
         Escape(o.label) + "</option>";
  }
  if (!group.empty()) f += "</optgroup>";
  f += "</select></div><div><button class=\"button\" type=\"submit\">Show</button></div>"
       "<div class=\"spacer\"></div><div><a class=\"button secondary\" href=\"/export.csv" +
       Query(c) + "\" download>Download CSV<span class=\"skip\"> for " +
       Escape(MonthLabel(c.month)) + "</span></a></div></form>";
  return f;
}

// ---- charts ----

struct Domain {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
};

Domain NiceDomain(double lo, double hi, const std::string& unit) {
  if (!(hi > lo)) {
    lo -= 1;
    hi += 1;
  }
  const double pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  if (lo < 0) lo = 0;
  if (unit == "percent" && hi > 100) hi = 100;
  const double raw = (hi - lo) / 5;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  if (unit == "count" && step < 1) step = 1;  // no ticks between whole numbers
  Domain d;
  d.lo = std::floor(lo / step) * step;
  d.hi = std::ceil(hi / step) * step;
  for (double t = d.lo; t <= d.hi + step / 1000; t += step) d.ticks.push_back(t);
  return d;
}

std::string TickLabel(double v) {
  return std::fabs(v - std::round(v)) < 1e-9 ? Fixed(v, 0) : Fixed(v, 1);
}

// Which special cause a point shows: "" (common cause), improvement, concern or neither.
std::string PointCause(const icr::v1::Series& s, int i) {
  const auto& p = s.points(i);
  if (!p.has_value() || !(p.beyond_limit() || p.run() || p.trend())) return "";
  bool high = p.value() > s.spc().mean();
  if (p.trend() && !p.beyond_limit() && !p.run()) {
    const auto* prev = i > 0 && s.points(i - 1).has_value() ? &s.points(i - 1) : nullptr;
    const auto* next =
        i + 1 < s.points_size() && s.points(i + 1).has_value() ? &s.points(i + 1) : nullptr;
    high = (prev && p.value() > prev->value()) || (next && next->value() > p.value());
  }
  switch (s.indicator().direction()) {
    case icr::v1::HIGHER_IS_BETTER:
      return high ? "improvement" : "concern";
    case icr::v1::LOWER_IS_BETTER:
      return high ? "concern" : "improvement";
    default:
      return "neither";
  }
}

std::string Marker(const std::string& cause, double x, double y) {
  char buf[256];
  if (cause == "concern") {  // a diamond, so concern differs from improvement by shape too
    std::snprintf(buf, sizeof buf,
                  "<path d=\"M%.1f %.1fl6.5 6.5l-6.5 6.5l-6.5 -6.5z\" fill=\"%s\" stroke=\"#fff\" "
                  "stroke-width=\"1.5\"/>",
                  x, y - 6.5, kRed);
  } else if (cause == "improvement") {
    std::snprintf(buf, sizeof buf,
                  "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"%s\" stroke=\"#fff\" "
                  "stroke-width=\"1.5\"/>",
                  x, y, kNhsBlue);
  } else if (cause == "neither") {
    std::snprintf(buf, sizeof buf,
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"11\" height=\"11\" fill=\"%s\" "
                  "stroke=\"#fff\" stroke-width=\"1.5\"/>",
                  x - 5.5, y - 5.5, kPurple);
  } else {
    std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>", x, y,
                  kMidGrey);
  }
  return buf;
}

// Path through the points that have values; a month without one breaks the line.
std::string LinePath(const icr::v1::Series& s, const std::function<double(int)>& x,
                     const std::function<double(double)>& y) {
  std::string d;
  bool pen = false;
  char buf[64];
  for (int i = 0; i < s.points_size(); ++i) {
    if (!s.points(i).has_value()) {
      pen = false;
      continue;
    }
    std::snprintf(buf, sizeof buf, "%s%.1f %.1f", pen ? "L" : "M", x(i), y(s.points(i).value()));
    d += buf;
    pen = true;
  }
  return d;
}

std::string HLine(double x1, double x2, double y, const char* colour, double width,
                  const char* dash) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"%.1f\"%s%s%s/>",
                x1, x2, y, y, colour, width, *dash ? " stroke-dasharray=\"" : "", dash,
                *dash ? "\"" : "");
  return buf;
}

std::string SwatchLine(const char* colour, const char* dash, double width) {
  return "<svg width=\"28\" height=\"12\" aria-hidden=\"true\">" +
         HLine(0, 28, 6, colour, width, dash) + "</svg>";
}

std::string SwatchMarker(const std::string& cause) {
  return "<svg width=\"16\" height=\"16\" aria-hidden=\"true\">" + Marker(cause, 8, 8) + "</svg>";
}

std::string FigureCells(const icr::v1::Indicator& ind, const icr::v1::Figure* f) {
  const bool ratio = ind.unit() == "percent";
  std::string cells;
  if (ratio) {
    cells += "<td class=\"num\">" + Escape(f ? f->numerator() : "") + "</td>";
    cells += "<td class=\"num\">" + Escape(f ? f->denominator() : "") + "</td>";
  }
  const std::string v = f ? f->value() : "";
  cells += "<td class=\"num\"" + (f ? Attr("data-value", v) : "") + ">" +
           (v.empty() ? "&ndash;" : Escape(WithUnit(v, ind.unit()))) + "</td>";
  return cells;
}

std::string FigureHeads(const icr::v1::Indicator& ind) {
  std::string h;
  if (ind.unit() == "percent")
    h += "<th scope=\"col\" class=\"num\">Numerator</th><th scope=\"col\" "
         "class=\"num\">Denominator</th>";
  return h + "<th scope=\"col\" class=\"num\">Value</th>";
}

const icr::v1::Figure* FigureFor(const icr::v1::Series& s, const std::string& month) {
  for (const auto& f : s.figures()) {
    if (f.breakdown_value() == month) return &f;
  }
  return nullptr;
}

std::string Counts(const icr::v1::Indicator& ind, const icr::v1::Figure* f) {
  if (!f || ind.unit() != "percent" || f->denominator().empty()) return "";
  return Escape(f->numerator()) + " of " + Escape(f->denominator());
}

int EthnicRank(const std::string& group) {
  static const std::vector<std::string> kOrder = {
      "White", "Mixed", "Asian or Asian British", "Asian",      "Black or Black British",
      "Black", "Other", "Other ethnic groups",    "Not stated", "Unknown"};
  auto it = std::find(kOrder.begin(), kOrder.end(), group);
  return it == kOrder.end() ? static_cast<int>(kOrder.size()) - 2
                            : static_cast<int>(it - kOrder.begin());
}

// One line a board can read first: how many results, targets met and special causes.
std::string Glance(const std::vector<const icr::v1::Indicator*>& inds,
                   const std::map<std::string, const icr::v1::Figure*>& totals) {
  int reported = 0, met = 0, missed = 0;
  std::map<std::string, int> signals;
  for (const auto* ind : inds) {
    auto it = totals.find(ind->id());
    if (it == totals.end()) continue;
    if (!it->second->value().empty()) ++reported;
    if (auto meets = MeetsTarget(*ind, *it->second)) ++(*meets ? met : missed);
    ++signals[it->second->spc_signal()];
  }
  if (reported == 0) return "";
  auto item = [](int n, const std::string& what) {
    return "<li><strong>" + std::to_string(n) + "</strong> " + Escape(what) + "</li>";
  };
  std::string g = "<ul class=\"glance\" aria-label=\"At a glance\">";
  g += item(reported, "of " + std::to_string(inds.size()) + " indicators reported");
  if (met + missed > 0) {
    g += item(met, met == 1 ? "target met" : "targets met");
    g += item(missed, missed == 1 ? "target not met" : "targets not met");
  }
  const std::vector<std::tuple<std::string, std::string, std::string>> kSignals = {
      {"improvement", "improvement", "improvements"},
      {"concern", "concern", "concerns"},
      {"special_cause", "special cause", "special causes"},
      {"none", "common cause", "common cause"}};
  for (const auto& [signal, one, many] : kSignals) {
    const int n = signals[signal];
    if (n > 0) g += item(n, n == 1 ? one : many);
  }
  return g + "</ul>";
}

// Words for an indicator's own breakdown: section heading, first column, caption phrase.
struct DetailText {
  std::string heading, column, caption;
};

DetailText DetailWords(const std::string& breakdown) {
  if (breakdown == "overdue_band") {
    return {"By overdue band", "Overdue by", "by how long the review is overdue"};
  }
  if (breakdown == "end_reason") return {"By reason", "Reason", "by reason for the end"};
  if (breakdown == "qualifying_section") {
    return {"By qualifying section", "Qualifying section", "by qualifying section"};
  }
  std::string words = breakdown;
  std::replace(words.begin(), words.end(), '_', ' ');
  std::string column = words;
  if (!column.empty()) column[0] = static_cast<char>(std::toupper(column[0]));
  return {"By " + words, column, "by " + words};
}

// The figures of one indicator in a dashboard, in the order given.
std::vector<const icr::v1::Figure*> OfIndicator(const icr::v1::Dashboard& d,
                                                const std::string& id) {
  std::vector<const icr::v1::Figure*> out;
  for (const auto& f : d.figures()) {
    if (f.indicator_id() == id) out.push_back(&f);
  }
  return out;
}

// A section with one breakdown of an indicator as a table (data-breakdown = `breakdown`), or a
// line saying there is none for the month.
std::string BreakdownSection(const PageContext& c, const icr::v1::Indicator& ind,
                             const std::string& breakdown, const std::string& heading,
                             const std::string& column, const std::string& caption,
                             const std::vector<const icr::v1::Figure*>& rows) {
  const std::string id = "by-" + breakdown;
  std::string out = "<section" + Attr("aria-labelledby", id) + "><h2" + Attr("id", id) + ">" +
                    Escape(heading) + "</h2>";
  if (rows.empty()) {
    return out + "<p>No breakdown " + Escape(caption) + " for this month.</p></section>";
  }
  out += "<table class=\"breakdown\"" + Attr("data-breakdown", breakdown) + "><caption>" +
         Escape(ind.name() + " " + caption + ", " + MonthLabel(c.month) + ", " + c.scope_label) +
         "</caption><thead><tr><th scope=\"col\">" + Escape(column) + "</th>" + FigureHeads(ind) +
         "</tr></thead><tbody>";
  for (const auto* f : rows) {
    out += "<tr><th scope=\"row\">" + Escape(f->breakdown_value()) + "</th>" + FigureCells(ind, f) +
           "</tr>";
  }
  return out + "</tbody></table></section>";
}

}  // namespace

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string UrlEncode(std::string_view text) { return PercentEncode(text); }

std::string MonthLabel(const std::string& month) {
  auto ym = ParseYearMonth(month);
  if (!ym) return month;
  return std::string(kMonthNames[ym->second - 1]) + " " + std::to_string(ym->first);
}

ValueParts ShownParts(const std::string& value, const std::string& unit) {
  if (value.empty() || value == "*") return {"", value, ""};
  if (unit == "percent") return {"", value, "%"};
  if (unit == "days") return {"", value, value == "1" ? " day" : " days"};
  if (unit == "pounds_per_week") {
    // Exact pence with thousands separators: "16252.31" -> "£16,252.31"; "-£1,234.50".
    const auto pence = ParsePounds(value);
    if (!pence) return {"\u00a3", value, " a week"};
    const std::string money = FormatPounds(*pence);
    const size_t number = money.find("\u00a3") + std::string("\u00a3").size();
    return {money.substr(0, number), money.substr(number), " a week"};
  }
  return {"", value, ""};
}

std::string WithUnit(const std::string& value, const std::string& unit) {
  const ValueParts p = ShownParts(value, unit);
  return p.before + p.number + p.after;
}

std::string SignalLabel(const std::string& signal) { return SignalWords(signal).label; }

std::string Sparkline(const icr::v1::Series& s) {
  constexpr double kW = 260, kH = 52, kPad = 5;
  std::vector<double> vals;
  for (const auto& p : s.points()) {
    if (p.has_value()) vals.push_back(p.value());
  }
  if (vals.empty()) return "";
  double lo = *std::min_element(vals.begin(), vals.end());
  double hi = *std::max_element(vals.begin(), vals.end());
  const bool target = s.indicator().has_target();
  if (target) {
    lo = std::min(lo, s.indicator().target());
    hi = std::max(hi, s.indicator().target());
  }
  if (!(hi > lo)) {
    lo -= 1;
    hi += 1;
  }
  const int n = s.points_size();
  auto x = [&](int i) { return n < 2 ? kW / 2 : kPad + i * (kW - 2 * kPad) / (n - 1); };
  auto y = [&](double v) { return kH - kPad - (v - lo) / (hi - lo) * (kH - 2 * kPad); };
  const std::string first = s.points(0).month(), last = s.points(n - 1).month();
  std::string label = "Trend from " + MonthLabel(first) + " to " + MonthLabel(last);
  std::string svg =
      "<svg class=\"spark\" viewBox=\"0 0 260 52\" preserveAspectRatio=\"none\" role=\"img\"" +
      Attr("aria-label", label) + "><title>" + Escape(label) + "</title>";
  if (target) svg += HLine(0, kW, y(s.indicator().target()), kMidGrey, 1, "4 3");
  svg += "<path d=\"" + LinePath(s, x, y) + "\" fill=\"none\" stroke=\"" + kDarkGrey +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\" vector-effect=\"non-scaling-stroke\"/>";
  for (int i = n - 1; i >= 0; --i) {
    if (!s.points(i).has_value()) continue;
    char buf[160];
    std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>", x(i),
                  y(s.points(i).value()), kNhsBlue);
    svg += buf;
    break;
  }
  return svg + "</svg>";
}

std::string XmrChart(const icr::v1::Series& s) {
  constexpr double kW = 1000, kH = 420, kLeft = 64, kRight = 150, kTop = 20, kBottom = 52;
  const auto& ind = s.indicator();
  const auto& spc = s.spc();
  const int n = s.points_size();
  const bool limits = spc.points() >= 2;
  std::vector<double> vals;
  for (const auto& p : s.points()) {
    if (p.has_value()) vals.push_back(p.value());
  }
  double lo = vals.empty() ? 0 : *std::min_element(vals.begin(), vals.end());
  double hi = vals.empty() ? 1 : *std::max_element(vals.begin(), vals.end());
  if (limits) {
    lo = std::min({lo, spc.lower_limit(), spc.mean()});
    hi = std::max({hi, spc.upper_limit(), spc.mean()});
  }
  if (ind.has_target()) {
    lo = std::min(lo, ind.target());
    hi = std::max(hi, ind.target());
  }
  const Domain d = NiceDomain(lo, hi, ind.unit());
  const double pw = kW - kLeft - kRight, ph = kH - kTop - kBottom;
  auto x = [&](int i) { return n < 2 ? kLeft + pw / 2 : kLeft + i * pw / (n - 1); };
  auto y = [&](double v) { return kTop + ph - (v - d.lo) / (d.hi - d.lo) * ph; };
  const std::string unit_suffix = ind.unit() == "percent" ? "%" : "";

  std::string title = ind.name() + ": XmR chart";
  std::string desc = vals.empty() ? "No values in this period." : "Monthly values";
  if (n > 0)
    desc += " from " + MonthLabel(s.points(0).month()) + " to " +
            MonthLabel(s.points(n - 1).month()) + ".";
  if (limits) {
    desc += " Mean " + Fixed(spc.mean(), 1) + ", process limits " + Fixed(spc.lower_limit(), 1) +
            " to " + Fixed(spc.upper_limit(), 1) + ".";
  }
  if (ind.has_target()) desc += " Target " + TargetText(ind) + ".";
  desc += " Latest: " + SignalDescription(spc.signal()) + ".";

  char buf[512];
  std::string svg =
      "<svg class=\"chart xmr\" viewBox=\"0 0 1000 420\" role=\"img\" aria-labelledby=\"xmr-title "
      "xmr-desc\">"
      "<title id=\"xmr-title\">" +
      Escape(title) + "</title><desc id=\"xmr-desc\">" + Escape(desc) + "</desc>";
  std::snprintf(buf, sizeof buf,
                "<defs><clipPath id=\"plot\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\"/></clipPath></defs>",
                kLeft, kTop - 8, pw + 1, ph + 16);
  svg += buf;
  // Grid and y axis.
  for (double t : d.ticks) {
    svg += HLine(kLeft, kLeft + pw, y(t), "#E8EDEE", 1, "");
    std::snprintf(buf, sizeof buf,
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"14\" fill=\"%s\">",
                  kLeft - 8, y(t) + 5, kDarkGrey);
    svg += buf + Escape(TickLabel(t) + unit_suffix) + "</text>";
  }
  svg += HLine(kLeft, kLeft + pw, kTop + ph, kDarkGrey, 1.5, "");
  // Month labels: about eight, always including the latest month.
  const int every = std::max(1, (n + 7) / 8);
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>", x(i),
                  x(i), kTop + ph, kTop + ph + ((n - 1 - i) % every == 0 ? 7 : 4), kDarkGrey);
    svg += buf;
    if ((n - 1 - i) % every != 0) continue;
    std::snprintf(
        buf, sizeof buf,
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\" fill=\"%s\">", x(i),
        kTop + ph + 26, kDarkGrey);
    svg += buf + Escape(ShortMonth(s.points(i).month())) + "</text>";
  }
  // Reference lines, each labelled at its right end (labels pushed apart when close).
  struct Ref {
    double value;
    std::string label;
    const char* colour;
    const char* dash;
    double width;
  };
  std::vector<Ref> refs;
  if (limits) {
    refs.push_back(
        {spc.upper_limit(), "Upper limit " + Fixed(spc.upper_limit(), 1), kMidGrey, "7 5", 1.5});
    refs.push_back({spc.mean(), "Mean " + Fixed(spc.mean(), 1), kDarkGrey, "", 1.5});
    refs.push_back(
        {spc.lower_limit(), "Lower limit " + Fixed(spc.lower_limit(), 1), kMidGrey, "7 5", 1.5});
  }
  if (ind.has_target())
    refs.push_back({ind.target(), "Target " + TargetText(ind), kRed, "2 4 10 4", 2.5});
  svg += "<g clip-path=\"url(#plot)\">";
  for (const auto& r : refs) svg += HLine(kLeft, kLeft + pw, y(r.value), r.colour, r.width, r.dash);
  svg += "</g>";
  std::vector<std::pair<double, const Ref*>> labels;
  std::vector<Ref> off_scale;  // e.g. a process limit above 100%: labelled at the edge
  for (const auto& r : refs) {
    if (r.value > d.hi)
      off_scale.push_back({r.value, "\u2191 " + r.label, r.colour, r.dash, r.width});
    if (r.value < d.lo)
      off_scale.push_back({r.value, "\u2193 " + r.label, r.colour, r.dash, r.width});
  }
  for (const auto& r : refs) {
    if (r.value >= d.lo && r.value <= d.hi) labels.emplace_back(y(r.value), &r);
  }
  for (const auto& r : off_scale) labels.emplace_back(r.value > d.hi ? kTop : kTop + ph, &r);
  std::sort(labels.begin(), labels.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < labels.size(); ++i)
    labels[i].first = std::max(labels[i].first, labels[i - 1].first + 17);
  for (size_t i = labels.size(); i-- > 1;) {  // keep the lowest label inside the chart
    if (labels[i].first > kTop + ph + 4) labels[i].first = kTop + ph + 4;
    labels[i - 1].first = std::min(labels[i - 1].first, labels[i].first - 17);
  }
  for (const auto& [ly, r] : labels) {
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" fill=\"%s\"%s>",
                  kLeft + pw + 10, ly + 5, r->colour == kMidGrey ? kDarkGrey : r->colour,
                  r->colour == kRed ? " font-weight=\"700\"" : "");
    svg += buf + Escape(r->label) + "</text>";
  }
  // The data: a line through the months with values, and a marker per month.
  svg += "<path d=\"" + LinePath(s, x, y) + "\" fill=\"none\" stroke=\"" + kDarkGrey +
         "\" stroke-width=\"2\" stroke-linejoin=\"round\"/>";
  for (int i = 0; i < n; ++i) {
    const auto& p = s.points(i);
    if (!p.has_value()) continue;
    const std::string cause = PointCause(s, i);
    svg += "<g class=\"point\"" + Attr("data-month", p.month()) +
           Attr("data-cause", cause.empty() ? "common" : cause) + "><title>" +
           Escape(ShortMonth(p.month()) + ": " +
                  WithUnit(ind.unit() == "pounds_per_week"
                               ? PlainPounds(std::llround(p.value() * 100.0))
                               : TickLabel(p.value()),
                           ind.unit()) +
                  (cause.empty() ? "" : " (special cause)")) +
           "</title>" + Marker(cause, x(i), y(p.value())) + "</g>";
  }
  return svg + "</svg>";
}

std::string LoginPage(const std::string& error, const std::string& next) {
  std::string body =
      "<h1>Sign in</h1><p class=\"lede\">Joint health and social care performance dashboard</p>";
  body += "<form class=\"login\" method=\"post\" action=\"/login\">";
  if (!error.empty()) {
    body += "<div class=\"error-summary\" role=\"alert\"><h2>There is a problem</h2><p>" +
            Escape(error) + "</p></div>";
  }
  body +=
      "<label for=\"token\">Access token</label><p class=\"hint\" id=\"token-hint\">The bearer "
      "token "
      "issued to your organisation (<code>icrctl admin token create</code>). It is kept in a "
      "cookie for this browser session and gives the same access as through the API.</p>"
      "<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" "
      "spellcheck=\"false\" "
      "required aria-describedby=\"token-hint\">" +
      (next.empty() ? "" : "<input type=\"hidden\" name=\"next\"" + Attr("value", next) + ">") +
      "<button class=\"button\" type=\"submit\">Sign in</button></form>";
  return Page("Sign in: mental health performance", body, nullptr);
}

std::string ErrorPage(const std::string& title, const std::string& message, const PageContext* c) {
  std::string body = "<h1>" + Escape(title) + "</h1><p class=\"lede\">" + Escape(message) + "</p>";
  body += "<p><a href=\"/\">Back to the dashboard</a></p>";
  return Page(title, body, c);
}

std::string OverviewPage(const PageContext& c, const icr::v1::Dashboard& dashboard,
                         const std::map<std::string, icr::v1::Series>& series,
                         const icr::v1::Dashboard& on_tiles) {
  std::map<std::string, const icr::v1::Figure*> totals;
  for (const auto& f : dashboard.figures()) {
    if (f.breakdown_value().empty()) totals[f.indicator_id()] = &f;
  }
  std::vector<const icr::v1::Indicator*> inds;
  for (const auto& i : dashboard.indicators()) inds.push_back(&i);
  std::stable_sort(inds.begin(), inds.end(), [](const auto* a, const auto* b) {
    return GroupRank(a->group()) < GroupRank(b->group());
  });

  std::string body = "<h1>Mental health: joint health and social care indicators</h1>";
  body += "<p class=\"lede\">" + Escape(MonthLabel(c.month)) + " &middot; " +
          Escape(c.scope_label) + "</p>";
  body += Filters(c, "/");
  if (totals.empty()) {
    body += "<div class=\"panel\" role=\"status\"><p>No results have been computed for " +
            Escape(MonthLabel(c.month)) + " in " + Escape(c.scope_label) +
            ". Choose another month or organisation, or compute the indicators "
            "(<code>icrctl kpi compute</code>).</p></div>";
  }
  body += Glance(inds, totals);
  std::string group;
  for (const auto* ind : inds) {
    if (ind->group() != group) {
      if (!group.empty()) body += "</div></section>";
      group = ind->group();
      body += "<section" + Attr("aria-labelledby", "group-" + group) + "><h2" +
              Attr("id", "group-" + group) + ">" + Escape(GroupTitle(group)) +
              "</h2><div class=\"tiles\">";
    }
    auto it = totals.find(ind->id());
    const icr::v1::Figure* f = it == totals.end() ? nullptr : it->second;
    const std::string link = "/indicator/" + UrlEncode(ind->id()) + Query(c);
    body += "<div class=\"tile\"" + Attr("data-indicator", ind->id()) +
            (f ? Attr("data-value", f->value()) : "") +
            (f ? Attr("data-signal", f->spc_signal()) : "") + ">";
    body += "<h3><a href=\"" + link + "\">" + Escape(ind->name()) + "</a></h3>";
    if (f && !f->value().empty()) {
      // The unit around the value: "%" or " days" after it, "£" before and " a week" after.
      const ValueParts shown = ShownParts(f->value(), ind->unit());
      auto unit = [](const std::string& text) {
        return text.empty() ? text : "<span class=\"unit\">" + Escape(text) + "</span>";
      };
      body += "<p class=\"value\">" + unit(shown.before) + Escape(shown.number) +
              unit(shown.after) + "</p>";
      body +=
          "<p class=\"counts\">" +
          (f->value() == "*" ? std::string("Hidden: too few people to show") : Counts(*ind, f)) +
          "</p>";
    } else {
      body +=
          "<p class=\"value none\">&ndash;</p><p class=\"counts\">" +
          std::string(f ? "No value this month (nothing to count)" : "No result for this month") +
          "</p>";
    }
    if (auto parts = OfIndicator(on_tiles, ind->id()); !parts.empty()) {
      const DetailText words = DetailWords(ind->detail_breakdown());
      body += "<ul class=\"parts\"" + Attr("aria-label", words.heading) + ">";
      for (const auto* p : parts) {
        body += "<li>" + Escape(p->breakdown_value()) + ": <strong>" + Escape(p->value()) +
                "</strong></li>";
      }
      body += "</ul>";
    }
    body += "<p class=\"badges\">" + TargetBadge(*ind, f) + " " +
            (f ? SignalBadge(f->spc_signal()) : "") + "</p>";
    auto s = series.find(ind->id());
    if (s != series.end()) body += Sparkline(s->second);
    body += "</div>";
  }
  if (!group.empty()) body += "</div></section>";

  body += "<footer class=\"foot note\"><p>" +
          Escape(DisclosureNote(dashboard.disclosure_policy())) + "</p>";
  body +=
      "<p>Each indicator's variation is judged on an XmR chart of its last 24 months (NHS England, "
      "Making Data Count): a special cause is a point beyond a process limit, a run of 7 months on "
      "one side of the mean, or 7 months rising or falling. <strong>Improvement</strong> and "
      "<strong>Concern</strong> are special causes in the indicator's better or worse direction; "
      "<strong>Common cause</strong> is no significant change; fewer than 12 months gives "
      "<strong>Too few points</strong>. The line under each value is the 24-month trend; the "
      "dashed line is the target.</p>";
  const std::string at = ComputedAt(dashboard.figures());
  if (!at.empty()) body += "<p>Computed " + Escape(at) + ".</p>";
  body += "</footer>";
  return Page("Mental health performance: " + MonthLabel(c.month) + ", " + c.scope_label, body, &c);
}

std::string IndicatorPage(const PageContext& c, const icr::v1::Series& s,
                          const icr::v1::Dashboard& by_ethnicity,
                          const icr::v1::Dashboard& by_detail,
                          const std::vector<CouncilRow>& councils) {
  const auto& ind = s.indicator();
  const auto& spc = s.spc();
  const icr::v1::Figure* f = FigureFor(s, c.month);

  std::string body =
      "<p class=\"crumb\"><a href=\"/" + Query(c) + "\">&larr; All indicators</a></p>";
  body += "<h1>" + Escape(ind.name()) + "</h1>";
  body += "<p class=\"lede\">" + Escape(MonthLabel(c.month)) + " &middot; " +
          Escape(c.scope_label) + "</p>";
  body += "<p class=\"note\">" + Escape(ind.definition()) + " " +
          Escape(DirectionText(ind.direction())) + ".</p>";
  body += Filters(c, "/indicator/" + ind.id());

  // Key figures.
  body += "<div class=\"keyfigs\">";
  body += "<div class=\"kf\" data-indicator=\"" + Escape(ind.id()) + "\"" +
          (f ? Attr("data-value", f->value()) : "") + "><span class=\"label\">" +
          Escape(MonthLabel(c.month)) + "</span><span class=\"big\">" +
          (f && !f->value().empty() ? Escape(WithUnit(f->value(), ind.unit())) : "&ndash;") +
          "</span><span class=\"sub\">" + (f ? Counts(ind, f) : "No result for this month") +
          "</span></div>";
  body += "<div class=\"kf\"><span class=\"label\">Target</span><span class=\"big\">" +
          (ind.has_target() ? Escape(TargetText(ind)) : std::string("None")) +
          "</span><span class=\"sub\">";
  if (ind.has_target()) {
    auto meets = f ? MeetsTarget(ind, *f) : std::nullopt;
    body += meets ? (*meets ? "Met this month" : "Not met this month") : "Not assessed this month";
    if (spc.points() >= 12 && spc.signal() != "insufficient_data") {
      const bool higher = ind.direction() != icr::v1::LOWER_IS_BETTER;
      const bool always =
          higher ? spc.lower_limit() > ind.target() : spc.upper_limit() < ind.target();
      const bool never =
          higher ? spc.upper_limit() < ind.target() : spc.lower_limit() > ind.target();
      body += always  ? "; the process consistently meets it"
              : never ? "; the process consistently fails it"
                      : "; the process will sometimes meet it and sometimes not";
    }
  } else {
    body += "No target set for this indicator";
  }
  body += "</span></div>";
  body += "<div class=\"kf\"><span class=\"label\">Variation</span><span class=\"big\">" +
          SignalBadge(spc.signal()) + "</span><span class=\"sub\">" +
          Escape(SignalDescription(spc.signal())) + "</span></div>";
  body += "</div>";

  // The XmR chart.
  const std::string range = s.points_size() > 0
                                ? MonthLabel(s.points(0).month()) + " to " +
                                      MonthLabel(s.points(s.points_size() - 1).month())
                                : "";
  body += "<section aria-labelledby=\"trend\"><h2 id=\"trend\">Trend: " + Escape(range) +
          "</h2><div class=\"panel\">";
  body += XmrChart(s);
  body += "<ul class=\"legend\">";
  body += "<li>" + SwatchMarker("") + "Common cause</li>";
  if (ind.direction() == icr::v1::NO_DIRECTION ||
      ind.direction() == icr::v1::DIRECTION_UNSPECIFIED) {
    body += "<li>" + SwatchMarker("neither") + "Special cause</li>";
  } else {
    body += "<li>" + SwatchMarker("improvement") + "Special cause: improvement</li>";
    body += "<li>" + SwatchMarker("concern") + "Special cause: concern</li>";
  }
  body += "<li>" + SwatchLine(kDarkGrey, "", 2) + "Mean</li>";
  body += "<li>" + SwatchLine(kMidGrey, "7 5", 2) +
          "Process limits (mean &plusmn; 2.66 &times; mean moving range)</li>";
  if (ind.has_target()) body += "<li>" + SwatchLine(kRed, "2 4 10 4", 2.5) + "Target</li>";
  body += "</ul>";
  body += "<details><summary>Chart data as a table</summary><table><caption>" + Escape(ind.name()) +
          ", " + Escape(range) + "</caption><thead><tr><th scope=\"col\">Month</th>" +
          FigureHeads(ind) + "<th scope=\"col\">Special cause</th></tr></thead><tbody>";
  for (int i = s.points_size() - 1; i >= 0; --i) {
    const auto& p = s.points(i);
    std::string causes;
    if (p.beyond_limit()) causes += "beyond a limit";
    if (p.run()) causes += std::string(causes.empty() ? "" : ", ") + "run of 7";
    if (p.trend()) causes += std::string(causes.empty() ? "" : ", ") + "trend of 7";
    body += "<tr><th scope=\"row\">" + Escape(MonthLabel(p.month())) + "</th>" +
            FigureCells(ind, FigureFor(s, p.month())) + "<td>" + Escape(causes) + "</td></tr>";
  }
  body += "</tbody></table></details></div></section>";

  // Breakdowns: the indicator's own (if it has one), ethnicity, council.
  body += "<div class=\"two\">";
  if (!ind.detail_breakdown().empty()) {
    const DetailText words = DetailWords(ind.detail_breakdown());
    body += BreakdownSection(c, ind, ind.detail_breakdown(), words.heading, words.column,
                             words.caption, OfIndicator(by_detail, ind.id()));
  }
  auto eth = OfIndicator(by_ethnicity, ind.id());
  std::stable_sort(eth.begin(), eth.end(), [](const auto* a, const auto* b) {
    return EthnicRank(a->breakdown_value()) < EthnicRank(b->breakdown_value());
  });
  body +=
      BreakdownSection(c, ind, "ethnicity", "By ethnicity", "Ethnic group", "by ethnic group", eth);
  body += "<section aria-labelledby=\"councils\"><h2 id=\"councils\">By council</h2>";
  if (councils.empty()) {
    body += "<p>No council has a result for this month.</p>";
  } else {
    body += "<table class=\"breakdown\" data-breakdown=\"council\"><caption>" + Escape(ind.name()) +
            " by responsible council, " + Escape(MonthLabel(c.month)) +
            "</caption><thead><tr><th scope=\"col\">Council</th>" + FigureHeads(ind) +
            "<th scope=\"col\">Variation</th></tr></thead><tbody>";
    for (const auto& row : councils) {
      const bool current = c.scope == "council:" + row.code;
      body += std::string("<tr") + (current ? " class=\"current\" aria-current=\"true\"" : "") +
              Attr("data-council", row.code) + "><th scope=\"row\"><a href=\"/indicator/" +
              UrlEncode(ind.id()) + "?month=" + UrlEncode(c.month) +
              "&amp;scope=" + UrlEncode("council:" + row.code) + "\">" + Escape(row.name) +
              "</a></th>" + FigureCells(ind, &row.figure) + "<td>" +
              SignalBadge(row.figure.spc_signal()) + "</td></tr>";
    }
    body += "</tbody></table>";
  }
  body += "</section></div>";
  body += "<footer class=\"foot note\"><p>" + Escape(DisclosureNote(s.disclosure_policy())) +
          " Council figures are shared across organisations unless they are your own, so they are "
          "subject to disclosure control.</p></footer>";
  return Page(ind.name() + ": " + MonthLabel(c.month) + ", " + c.scope_label, body, &c);
}

}  // namespace icr::perf::html
