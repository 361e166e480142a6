// The dashboard's HTML and SVG rendering: escaping, tiles carrying exactly the service's figures,
// suppressed values, and the XmR chart's reference lines and special-cause markers.
#include "services/performance/dashboard_html.h"

#include <gtest/gtest.h>

namespace icr::perf::html {
namespace {

icr::v1::Indicator Fu72() {
  icr::v1::Indicator ind;
  ind.set_id("FU72");
  ind.set_name("Follow-up within 72 hours of discharge");
  ind.set_group("health");
  ind.set_unit("percent");
  ind.set_has_target(true);
  ind.set_target(80);
  ind.set_direction(icr::v1::HIGHER_IS_BETTER);
  return ind;
}

icr::v1::Figure FigureOf(const std::string& id, const std::string& value, const std::string& num,
                         const std::string& den) {
  icr::v1::Figure f;
  f.set_indicator_id(id);
  f.set_value(value);
  f.set_numerator(num);
  f.set_denominator(den);
  if (value != "*" && !value.empty()) {
    f.set_has_value(true);
    f.set_raw_value(std::stod(value));
  } else {
    f.set_suppressed(value == "*");
  }
  f.set_spc_signal("none");
  return f;
}

PageContext Context() {
  PageContext c;
  c.user_org = "RGD";
  c.user_org_name = "Leeds and York Partnership NHS Foundation Trust";
  c.user_role = "performance_analyst";
  c.month = "2026-10";
  c.months = {"2026-10", "2026-09"};
  c.scope = "all";
  c.scope_label = "All of England";
  c.scopes = {{"all", "All of England", ""},
              {"provider:RGD", "Leeds & York", "Mental health trusts"}};
  return c;
}

// A series of `n` months ending 2026-10 with the given values (nullopt = no value).
icr::v1::Series SeriesOf(const icr::v1::Indicator& ind,
                         const std::vector<std::optional<double>>& values) {
  icr::v1::Series s;
  *s.mutable_indicator() = ind;
  s.set_disclosure_policy("unrounded");
  int year = 2026, month = 10;
  std::vector<std::string> months(values.size());
  for (size_t i = values.size(); i-- > 0;) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d", year, month);
    months[i] = buf;
    if (--month == 0) {
      month = 12;
      --year;
    }
  }
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    auto* p = s.add_points();
    p->set_month(months[i]);
    p->set_has_value(values[i].has_value());
    p->set_value(values[i].value_or(0));
    if (values[i]) {
      sum += *values[i];
      ++n;
      auto f = FigureOf(ind.id(), std::to_string(static_cast<int>(*values[i])), "10", "20");
      f.set_breakdown_value(months[i]);
      *s.add_figures() = f;
    }
  }
  s.mutable_spc()->set_mean(n ? sum / n : 0);
  s.mutable_spc()->set_upper_limit(90);
  s.mutable_spc()->set_lower_limit(60);
  s.mutable_spc()->set_points(n);
  s.mutable_spc()->set_signal(n >= 12 ? "none" : "insufficient_data");
  return s;
}

TEST(DashboardHtml, EscapesMarkupAndQuotes) {
  EXPECT_EQ(Escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(UrlEncode("provider:RGD & x"), "provider%3ARGD%20%26%20x");
}

TEST(DashboardHtml, UnitsAndMonths) {
  EXPECT_EQ(WithUnit("82.4", "percent"), "82.4%");
  EXPECT_EQ(WithUnit("*", "percent"), "*");
  EXPECT_EQ(WithUnit("12", "count"), "12");
  EXPECT_EQ(WithUnit("4.5", "days"), "4.5 days");
  EXPECT_EQ(WithUnit("16252.31", "pounds_per_week"), "\u00a316,252.31 a week");
  EXPECT_EQ(WithUnit("-1234.5", "pounds_per_week"), "-\u00a31,234.50 a week");
  EXPECT_EQ(WithUnit("*", "pounds_per_week"), "*");
  EXPECT_EQ(MonthLabel("2026-10"), "October 2026");
  EXPECT_EQ(MonthLabel("nonsense"), "nonsense");
  EXPECT_EQ(SignalLabel("concern"), "Concern");
  EXPECT_EQ(SignalLabel("insufficient_data"), "Too few points");
}

TEST(DashboardHtml, TilesCarryTheServiceValuesExactly) {
  icr::v1::Dashboard d;
  d.set_month("2026-10");
  d.set_disclosure_policy("mhsds");
  *d.add_indicators() = Fu72();
  auto detentions = Fu72();
  detentions.set_id("DETENTIONS");
  detentions.set_name("New detentions");
  detentions.set_unit("count");
  detentions.set_has_target(false);
  *d.add_indicators() = detentions;
  auto s117 = detentions;
  s117.set_id("S117_ACTIVE");
  s117.set_group("s117");
  *d.add_indicators() = s117;
  *d.add_figures() = FigureOf("FU72", "82.4", "410", "500");
  *d.add_figures() = FigureOf("DETENTIONS", "*", "*", "");
  auto cost = detentions;
  cost.set_id("S117_COST_COUNCIL");
  cost.set_unit("pounds_per_week");
  *d.add_indicators() = cost;
  *d.add_figures() = FigureOf("S117_COST_COUNCIL", "16252.31", "12", "");
  auto eth = FigureOf("FU72", "50.0", "5", "10");
  eth.set_breakdown_value("White");  // not a total: never a tile
  *d.add_figures() = eth;

  const std::string page = OverviewPage(Context(), d, {}, {});
  EXPECT_NE(page.find("<div class=\"tile\" data-indicator=\"FU72\" data-value=\"82.4\""),
            std::string::npos);
  EXPECT_NE(page.find("82.4<span class=\"unit\">%</span>"), std::string::npos);
  EXPECT_NE(page.find("410 of 500"), std::string::npos);
  EXPECT_NE(page.find("Target 80%: met"), std::string::npos);
  EXPECT_NE(page.find("data-indicator=\"DETENTIONS\" data-value=\"*\""), std::string::npos);
  // Money: the pound sign before the value, exact to the penny with thousands separators,
  // "a week" after it; the attribute keeps the plain amount.
  EXPECT_NE(page.find("<span class=\"unit\">\u00a3</span>16,252.31<span class=\"unit\"> a "
                      "week</span>"),
            std::string::npos);
  EXPECT_NE(page.find("data-value=\"16252.31\""), std::string::npos);
  // An indicator without a result this month has a tile but no value.
  EXPECT_NE(page.find("data-indicator=\"S117_ACTIVE\">"), std::string::npos);
  EXPECT_EQ(page.find("data-value=\"50.0\""), std::string::npos);
  // Grouped, in order.
  const size_t health = page.find(">Health</h2>"),
               s117_heading = page.find(">Section 117 aftercare</h2>");
  ASSERT_NE(health, std::string::npos);
  ASSERT_NE(s117_heading, std::string::npos);
  EXPECT_LT(health, s117_heading);
  // Filters, CSV link, disclosure note; nothing loaded from elsewhere.
  EXPECT_NE(page.find("<option value=\"2026-10\" selected>October 2026</option>"),
            std::string::npos);
  EXPECT_NE(page.find("href=\"/export.csv?month=2026-10&amp;scope=all\""), std::string::npos);
  EXPECT_NE(page.find("counts below 5 are shown as *"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
}

TEST(DashboardHtml, EverythingFromDataIsEscaped) {
  icr::v1::Dashboard d;
  auto ind = Fu72();
  ind.set_name("<img src=x onerror=alert(1)>");
  *d.add_indicators() = ind;
  *d.add_figures() = FigureOf("FU72", "82.4", "410", "500");
  auto c = Context();
  c.scope_label = "<b>Trust</b>";
  c.scopes.push_back({"council:\"x", "<script>", "<g>"});
  const std::string page = OverviewPage(c, d, {}, {});
  EXPECT_EQ(page.find("<img src=x"), std::string::npos);
  EXPECT_EQ(page.find("<b>Trust"), std::string::npos);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
}

TEST(DashboardHtml, XmrChartHasLimitsTargetAndSpecialCauses) {
  std::vector<std::optional<double>> values(24, 75.0);
  for (size_t i = 0; i < values.size(); ++i) values[i] = 70.0 + static_cast<double>(i % 3) * 5;
  values[5] = std::nullopt;
  values[23] = 95.0;  // above the upper limit: an improvement for a higher-is-better indicator
  auto s = SeriesOf(Fu72(), values);
  s.mutable_points(23)->set_beyond_limit(true);
  s.mutable_points(2)->set_value(50);
  s.mutable_points(2)->set_beyond_limit(true);  // below the lower limit: a concern
  const std::string svg = XmrChart(s);
  EXPECT_EQ(svg.rfind("<svg class=\"chart xmr\"", 0), 0u);
  EXPECT_NE(svg.find("Upper limit 90.0"), std::string::npos);
  EXPECT_NE(svg.find("Lower limit 60.0"), std::string::npos);
  EXPECT_NE(svg.find("Mean "), std::string::npos);
  EXPECT_NE(svg.find("Target 80%"), std::string::npos);
  EXPECT_NE(svg.find("data-month=\"2026-10\" data-cause=\"improvement\""), std::string::npos);
  EXPECT_NE(svg.find("data-cause=\"concern\""), std::string::npos);
  EXPECT_NE(svg.find("data-cause=\"common\""), std::string::npos);
  // The month without a value has no marker.
  EXPECT_EQ(svg.find("data-month=\"" + s.points(5).month() + "\""), std::string::npos);
  EXPECT_NE(svg.find("role=\"img\""), std::string::npos);
}

TEST(DashboardHtml, IndicatorPageShowsBreakdowns) {
  std::vector<std::optional<double>> values(24, 80.0);
  auto s = SeriesOf(Fu72(), values);
  icr::v1::Dashboard eth;
  auto white = FigureOf("FU72", "81.0", "405", "500");
  white.set_breakdown_value("White");
  auto other = FigureOf("KEYWORKER", "10.0", "1", "10");
  other.set_breakdown_value("Mixed");
  *eth.add_figures() = white;
  *eth.add_figures() = other;
  CouncilRow leeds{"E08000035", "Leeds City Council", FigureOf("FU72", "*", "*", "*")};
  leeds.figure.set_spc_signal("insufficient_data");
  auto c = Context();
  c.scope = "council:E08000035";
  const std::string page = IndicatorPage(c, s, eth, {}, {leeds});
  EXPECT_NE(page.find("data-breakdown=\"ethnicity\""), std::string::npos);
  EXPECT_EQ(page.find("By overdue band"), std::string::npos);  // FU72 has no detail breakdown
  EXPECT_NE(page.find("<th scope=\"row\">White</th>"), std::string::npos);
  EXPECT_EQ(page.find(">Mixed<"), std::string::npos);  // another indicator's row
  EXPECT_NE(page.find("data-council=\"E08000035\""), std::string::npos);
  EXPECT_NE(page.find("class=\"current\""), std::string::npos);
  EXPECT_NE(page.find("<caption>"), std::string::npos);
  EXPECT_NE(page.find("<svg class=\"chart xmr\""), std::string::npos);
  // Limits 60 to 90 straddle the target of 80.
  EXPECT_NE(page.find("the process will sometimes meet it and sometimes not"), std::string::npos);
}

TEST(DashboardHtml, IndicatorPageShowsTheIndicatorsOwnBreakdown) {
  icr::v1::Indicator ind;
  ind.set_id("S117_OVERDUE");
  ind.set_name("Overdue S117 reviews");
  ind.set_group("s117");
  ind.set_unit("count");
  ind.set_direction(icr::v1::LOWER_IS_BETTER);
  ind.set_detail_breakdown("overdue_band");
  auto s = SeriesOf(ind, std::vector<std::optional<double>>(24, 4.0));
  icr::v1::Dashboard bands;
  for (const auto& [band, n] : std::vector<std::pair<std::string, std::string>>{
           {"0-3 months", "2"}, {"3-6 months", "1"}, {"Over 12 months", "1"}}) {
    auto f = FigureOf("S117_OVERDUE", n, n, "");
    f.set_breakdown_value(band);
    *bands.add_figures() = f;
  }
  const std::string page = IndicatorPage(Context(), s, {}, bands, {});
  EXPECT_NE(page.find("<h2 id=\"by-overdue_band\">By overdue band</h2>"), std::string::npos);
  const size_t table = page.find("<table class=\"breakdown\" data-breakdown=\"overdue_band\">");
  ASSERT_NE(table, std::string::npos);
  EXPECT_NE(page.find("<caption>Overdue S117 reviews by how long the review is overdue, October "
                      "2026, All of England</caption>",
                      table),
            std::string::npos);
  EXPECT_NE(page.find("<th scope=\"col\">Overdue by</th>", table), std::string::npos);
  // In the order the service gives them.
  const size_t first = page.find("<th scope=\"row\">0-3 months</th>", table);
  const size_t last = page.find("<th scope=\"row\">Over 12 months</th>", table);
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(last, std::string::npos);
  EXPECT_LT(first, last);
  EXPECT_NE(page.find("No breakdown by ethnic group for this month."), std::string::npos);
}

TEST(DashboardHtml, LoginPageKeepsOnlyTheNextPath) {
  const std::string page =
      LoginPage("That token was not recognised.", "/indicator/FU72?month=2026-10");
  EXPECT_NE(page.find("name=\"token\" type=\"password\""), std::string::npos);
  EXPECT_NE(page.find("That token was not recognised."), std::string::npos);
  EXPECT_NE(page.find("value=\"/indicator/FU72?month=2026-10\""), std::string::npos);
}

}  // namespace
}  // namespace icr::perf::html
