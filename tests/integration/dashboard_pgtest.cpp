// The HTTP dashboard on a real server: sign-in with a token kept in a cookie, pages that show
// exactly what GetDashboard returns, disclosure control on shared figures, CSV, security headers
// and refusal without a session. Results are written straight into perf.kpi_result, so the test
// depends on the dashboard and the service's reads, not on the indicator queries.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "icr/v1/performance.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/server/host.h"
#include "tests/integration/harness.h"

namespace icr::test {
namespace {

std::string MonthsAgo(int n) {
  const std::chrono::year_month_day today{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
  const auto ym = std::chrono::year_month{today.year(), today.month()} - std::chrono::months{n};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u", static_cast<int>(ym.year()),
                static_cast<unsigned>(ym.month()));
  return buf;
}

class DashboardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    url_ = new std::string(Stack::NewDatabase("dash"));
    db_ = new Database(*url_, 4);
    {
      pqxx::connection c(*url_);
      pqxx::work tx(c);
      // FU72 for England over 14 months, the latest 93 of 100; a council with 3 of 4 (too few
      // to share); an ethnicity breakdown; DETENTIONS as a count; S117_OVERDUE with its own
      // breakdown by how long overdue.
      tx.exec(
          "INSERT INTO perf.kpi_result (indicator_id, period_start, scope_type, scope_code, "
          "breakdown, "
          "breakdown_value, numerator, denominator, value) "
          "SELECT 'FU72', (date_trunc('month', current_date) - make_interval(months => g))::date, "
          "'all', '', 'none', '', 94 - g, 100, 94 - g FROM generate_series(1, 14) g");
      tx.exec(
          "INSERT INTO perf.kpi_result VALUES ('FU72', (date_trunc('month', current_date) - "
          "interval '1 month')::date, 'council', 'E08000035', 'none', '', 3, 4, 75)");
      tx.exec(
          "INSERT INTO perf.kpi_result VALUES ('FU72', (date_trunc('month', current_date) - "
          "interval '1 month')::date, 'all', '', 'ethnicity', 'White', 60, 70, 85.714)");
      tx.exec(
          "INSERT INTO perf.kpi_result VALUES ('DETENTIONS', (date_trunc('month', current_date) - "
          "interval '1 month')::date, 'all', '', 'none', '', 37, NULL, 37)");
      tx.exec(
          "INSERT INTO perf.kpi_result (indicator_id, period_start, scope_type, scope_code, "
          "breakdown, breakdown_value, numerator, denominator, value) "
          "SELECT 'S117_OVERDUE', (date_trunc('month', current_date) - interval '1 month')::date, "
          "'all', '', b, v, n, NULL, n FROM (VALUES ('none', '', 7), "
          "('overdue_band', '0-3 months', 4), ('overdue_band', 'Over 12 months', 3)) x (b, v, n)");
      tx.commit();
    }
    HostOptions options;
    options.services = {"performance"};
    options.dashboard_listen = "127.0.0.1:0";
    // A national store: the England-level figures are unrounded (a regional store's are tested
    // in InARegionalStoreAllOrganisationsIsSharedLikeAnyOrganisation).
    options.national_store = true;
    auto host = Host::Start(*db_, options);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = host->release();
    token_ = new std::string(
        *Authenticator::CreateToken(*db_, "RGD", Role::kPerformanceAnalyst, "dash"));
  }

  static void TearDownTestSuite() {
    delete host_;
    delete db_;
    delete url_;
    delete token_;
    host_ = nullptr;
  }

  void SetUp() override { ASSERT_NE(host_, nullptr); }

  static httplib::Client Http(Host* host = host_) {
    httplib::Client c("127.0.0.1", host->dashboard_port());
    c.set_read_timeout(std::chrono::seconds(30));
    return c;
  }

  static httplib::Headers Session() { return {{"Cookie", "other=1; icr_session=" + *token_}}; }

  static icr::v1::Dashboard GrpcDashboard(const std::string& month, Host* host = host_,
                                          const std::string& scope_type = "all",
                                          const std::string& scope_code = "") {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(host->port()),
                                       grpc::InsecureChannelCredentials());
    auto stub = icr::v1::PerformanceService::NewStub(channel);
    icr::v1::GetDashboardRequest req;
    req.set_month(month);
    req.mutable_scope()->set_type(scope_type);
    req.mutable_scope()->set_code(scope_code);
    icr::v1::Dashboard d;
    auto status = stub->GetDashboard(Ctx(*token_).get(), req, &d);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return d;
  }

  static inline std::string* url_ = nullptr;
  static inline Database* db_ = nullptr;
  static inline Host* host_ = nullptr;
  static inline std::string* token_ = nullptr;
};

TEST_F(DashboardTest, HealthAndSecurityHeadersOnEveryResponse) {
  auto res = Http().Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");
  for (const char* path : {"/healthz", "/login", "/", "/nowhere"}) {
    auto r = Http().Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->get_header_value("Content-Security-Policy"),
              "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'")
        << path;
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff") << path;
  }
  EXPECT_EQ(Http().Get("/nowhere")->status, 404);
}

TEST_F(DashboardTest, WithoutASessionPagesRedirectAndCsvIsRefused) {
  auto page = Http().Get("/indicator/FU72?month=" + MonthsAgo(1));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 303);
  // (httplib's client percent-decodes the header it reads.)
  EXPECT_EQ(page->get_header_value("Location"),
            "/login?next=/indicator/FU72?month=" + MonthsAgo(1));
  auto csv = Http().Get("/export.csv");
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->status, 401);
  // An unknown token in the cookie is no better, and is cleared.
  auto bad = Http().Get("/", {{"Cookie", "icr_session=icr_notatoken"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 303);
  EXPECT_NE(bad->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
}

TEST_F(DashboardTest, SignInSetsAnHttpOnlyCookieAndGoesBackToThePage) {
  auto bad = Http().Post("/login", "token=icr_wrong", "application/x-www-form-urlencoded");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_NE(bad->body.find("not recognised"), std::string::npos);
  EXPECT_FALSE(bad->has_header("Set-Cookie"));

  auto ok = Http().Post("/login", "token=" + *token_ + "&next=%2Findicator%2FFU72",
                        "application/x-www-form-urlencoded");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 303);
  EXPECT_EQ(ok->get_header_value("Location"), "/indicator/FU72");
  EXPECT_EQ(ok->get_header_value("Set-Cookie"),
            "icr_session=" + *token_ + "; HttpOnly; SameSite=Strict; Path=/");

  // Never to another site.
  auto away = Http().Post("/login", "token=" + *token_ + "&next=%2F%2Fevil.example",
                          "application/x-www-form-urlencoded");
  ASSERT_TRUE(away);
  EXPECT_EQ(away->get_header_value("Location"), "/");

  auto out = Http().Get("/logout", Session());
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 303);
  EXPECT_NE(out->get_header_value("Set-Cookie").find("icr_session=; "), std::string::npos);
}

TEST_F(DashboardTest, ARevokedTokensSessionEndsWithinASecond) {
  const std::string token =
      *Authenticator::CreateToken(*db_, "RGD", Role::kPerformanceAnalyst, "dash revoke");
  const httplib::Headers session = {{"Cookie", "icr_session=" + token}};
  auto before = Http().Get("/", session);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 200);
  ASSERT_TRUE(Authenticator::RevokeTokens(*db_, {token}).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // past the token cache's 1 s
  auto after = Http().Get("/", session);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 303);
  EXPECT_NE(after->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
}

TEST_F(DashboardTest, OverviewShowsWhatGetDashboardReturns) {
  const std::string month = MonthsAgo(1);
  auto res = Http().Get("/", Session());  // no month: the latest with results
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  const auto d = GrpcDashboard(month);
  int totals = 0;
  for (const auto& f : d.figures()) {
    if (!f.breakdown_value().empty()) continue;
    ++totals;
    const std::string tile =
        "data-indicator=\"" + f.indicator_id() + "\" data-value=\"" + f.value() + "\"";
    EXPECT_NE(res->body.find(tile), std::string::npos) << tile;
  }
  EXPECT_EQ(totals, 3);
  EXPECT_NE(res->body.find("data-indicator=\"FU72\" data-value=\"93.0\""), std::string::npos);
  EXPECT_NE(res->body.find("<option value=\"" + month + "\" selected>"), std::string::npos);
  EXPECT_NE(res->body.find("<svg class=\"spark\""), std::string::npos);
  // S117_OVERDUE's tile lists its bands.
  const size_t overdue = res->body.find("data-indicator=\"S117_OVERDUE\"");
  ASSERT_NE(overdue, std::string::npos);
  EXPECT_NE(
      res->body.find("<ul class=\"parts\" aria-label=\"By overdue band\"><li>0-3 months: "
                     "<strong>4</strong></li><li>Over 12 months: <strong>3</strong></li></ul>",
                     overdue),
      std::string::npos);

  auto bad = Http().Get("/?month=2026-13", Session());
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  auto scope = Http().Get("/?scope=provider:E08000035", Session());  // a council is not a provider
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->status, 400);
}

TEST_F(DashboardTest, IndicatorPageHasTheChartAndSharedFiguresAreSuppressed) {
  const std::string month = MonthsAgo(1);
  auto res = Http().Get("/indicator/FU72?month=" + month + "&scope=all", Session());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_NE(res->body.find("<svg class=\"chart xmr\""), std::string::npos);
  EXPECT_NE(res->body.find("<th scope=\"row\">White</th>"), std::string::npos);
  // RGD looking at Leeds City Council's figures: shared, so 3 of 4 is hidden.
  const size_t leeds = res->body.find("data-council=\"E08000035\"");
  ASSERT_NE(leeds, std::string::npos);
  const std::string row = res->body.substr(leeds, res->body.find("</tr>", leeds) - leeds);
  EXPECT_NE(row.find("data-value=\"*\""), std::string::npos) << row;
  EXPECT_EQ(row.find("75"), std::string::npos) << row;

  // FU72 has no breakdown of its own.
  EXPECT_EQ(res->body.find("data-breakdown=\"overdue_band\""), std::string::npos);

  auto missing = Http().Get("/indicator/NOPE", Session());
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(DashboardTest, IndicatorPageHasATableForTheIndicatorsOwnBreakdown) {
  auto res = Http().Get("/indicator/S117_OVERDUE?month=" + MonthsAgo(1) + "&scope=all", Session());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_NE(res->body.find("<h2 id=\"by-overdue_band\">By overdue band</h2>"), std::string::npos);
  const size_t table = res->body.find("data-breakdown=\"overdue_band\"");
  ASSERT_NE(table, std::string::npos);
  const size_t recent = res->body.find("<th scope=\"row\">0-3 months</th>", table);
  const size_t oldest = res->body.find("<th scope=\"row\">Over 12 months</th>", table);
  ASSERT_NE(recent, std::string::npos);
  ASSERT_NE(oldest, std::string::npos);
  EXPECT_LT(recent, oldest);
}

TEST_F(DashboardTest, CsvDownloadIsTheServiceExport) {
  const std::string month = MonthsAgo(1);
  auto res = Http().Get("/export.csv?month=" + month + "&scope=all", Session());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_NE(
      res->get_header_value("Content-Disposition").find("icr-indicators-" + month + "-england.csv"),
      std::string::npos);
  EXPECT_EQ(res->body.rfind("REPORTING_PERIOD_START,", 0), 0u);
  EXPECT_NE(res->body.find(",FU72,"), std::string::npos);
  EXPECT_NE(res->body.find(",93.0\n"), std::string::npos);
  auto bad = Http().Get("/export.csv?from=2020-01&to=2019-01", Session());
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

// The indicator's total as shown, from a dashboard.
std::string Total(const icr::v1::Dashboard& d, const std::string& indicator) {
  for (const auto& f : d.figures()) {
    if (f.indicator_id() == indicator && f.breakdown_value().empty()) return f.value();
  }
  return "(none)";
}

// The same store served as a regional one, which is the default: the figures for all
// organisations are shared figures, rounded and suppressed like any organisation's, over gRPC,
// on the dashboard and in its CSV; the national host (the suite's) shows them unrounded. The
// caller's own organisation stays unrounded either way.
TEST_F(DashboardTest, InARegionalStoreAllOrganisationsIsSharedLikeAnyOrganisation) {
  HostOptions options;
  options.services = {"performance"};
  options.dashboard_listen = "127.0.0.1:0";
  ASSERT_FALSE(options.national_store);
  auto started = Host::Start(*db_, options);
  ASSERT_TRUE(started.ok()) << started.status();
  Host* regional = started->get();
  const std::string month = MonthsAgo(1);

  const auto national_board = GrpcDashboard(month);
  EXPECT_EQ(national_board.disclosure_policy(), "unrounded");
  EXPECT_EQ(Total(national_board, "DETENTIONS"), "37");
  EXPECT_EQ(Total(national_board, "S117_OVERDUE"), "7");
  EXPECT_EQ(Total(national_board, "FU72"), "93.0");
  const auto regional_board = GrpcDashboard(month, regional);
  EXPECT_EQ(regional_board.disclosure_policy(), "mhsds");
  EXPECT_EQ(Total(regional_board, "DETENTIONS"), "35");
  EXPECT_EQ(Total(regional_board, "S117_OVERDUE"), "5");
  EXPECT_EQ(Total(regional_board, "FU72"), "93");
  EXPECT_EQ(GrpcDashboard(month, regional, "provider", "RGD").disclosure_policy(), "unrounded");

  auto page = Http(regional).Get("/?month=" + month + "&scope=all", Session());
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200) << page->body;
  EXPECT_NE(page->body.find("data-indicator=\"DETENTIONS\" data-value=\"35\""), std::string::npos);
  EXPECT_EQ(page->body.find("data-value=\"37\""), std::string::npos);
  // The overdue bands (4 and 3) are below 5: hidden.
  EXPECT_EQ(page->body.find("0-3 months: <strong>4</strong>"), std::string::npos);

  auto csv = Http(regional).Get("/export.csv?month=" + month + "&scope=all", Session());
  ASSERT_TRUE(csv);
  ASSERT_EQ(csv->status, 200);
  EXPECT_NE(csv->body.find(",35\n"), std::string::npos) << csv->body;
  EXPECT_EQ(csv->body.find(",37\n"), std::string::npos) << csv->body;
  auto national_csv = Http().Get("/export.csv?month=" + month + "&scope=all", Session());
  ASSERT_TRUE(national_csv);
  EXPECT_NE(national_csv->body.find(",37\n"), std::string::npos) << national_csv->body;
}

TEST_F(DashboardTest, AnAddressInUseFailsTheStart) {
  HostOptions options;
  options.services = {"performance"};
  options.dashboard_listen = "127.0.0.1:" + std::to_string(host_->dashboard_port());
  auto second = Host::Start(*db_, options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("cannot listen"), std::string::npos);
}

}  // namespace
}  // namespace icr::test
