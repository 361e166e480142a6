#include "services/performance/dashboard.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "services/common/access_rule.h"
#include "services/common/http_listen.h"
#include "services/common/status.h"
#include "services/performance/dashboard_html.h"
#include "services/performance/indicators.h"

namespace icr::perf {
namespace {

constexpr char kCookie[] = "icr_session";
constexpr int kTrendMonths = 24;    // the sparklines and the XmR chart
constexpr int kMonthsOffered = 36;  // how far back the month filter looks for results
constexpr int kMaxCsvMonths = 120;  // as PerformanceService allows

// Every response: nothing loads from anywhere (styles and SVG are inline), nothing frames us.
const httplib::Headers kSecurityHeaders = {
    {"Content-Security-Policy",
     "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
};

Month CurrentMonth() {
  const std::chrono::year_month_day today{
      std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
  return Month{static_cast<int>(today.year()), static_cast<unsigned>(today.month())};
}

std::string CookieValue(const httplib::Request& req, const std::string& name) {
  for (auto [it, end] = req.headers.equal_range("Cookie"); it != end; ++it) {
    const std::string& header = it->second;
    size_t pos = 0;
    while (pos < header.size()) {
      size_t semi = header.find(';', pos);
      if (semi == std::string::npos) semi = header.size();
      std::string part = header.substr(pos, semi - pos);
      pos = semi + 1;
      const size_t start = part.find_first_not_of(' ');
      if (start == std::string::npos) continue;
      part = part.substr(start);
      if (part.size() > name.size() && part.compare(0, name.size(), name) == 0 &&
          part[name.size()] == '=') {
        return part.substr(name.size() + 1);
      }
    }
  }
  return "";
}

// Tokens are "icr_" and url-safe characters; anything else never reaches a header.
bool PlausibleToken(const std::string& token) {
  if (token.empty() || token.size() > 256) return false;
  return std::all_of(token.begin(), token.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; });
}

// Only a local path may follow a login: never another site ("//host", "https://...").
std::string SafeNext(const std::string& next) {
  if (next.empty() || next[0] != '/' || (next.size() > 1 && (next[1] == '/' || next[1] == '\\'))) {
    return "/";
  }
  for (unsigned char c : next) {
    if (c < 0x20 || c == 0x7f || c == '\\') return "/";
  }
  return next;
}

std::string PathWithQuery(const httplib::Request& req) {
  std::string q;
  for (const auto& [k, v] : req.params) {
    q += (q.empty() ? "?" : "&") + html::UrlEncode(k) + "=" + html::UrlEncode(v);
  }
  return req.path + q;
}

void Redirect(httplib::Response& res, const std::string& to) {
  res.status = 303;
  res.set_header("Location", to);
}

void SendPage(httplib::Response& res, int status, const std::string& page) {
  res.status = status;
  res.set_content(page, "text/html; charset=utf-8");
}

int HttpStatus(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

std::string ErrorTitle(int status) {
  switch (status) {
    case 400:
      return "Check the filters";
    case 401:
      return "Sign in needed";
    case 403:
      return "Not allowed";
    case 404:
      return "Page not found";
    case 503:
      return "Sorry, the service is unavailable";
    case 504:
      return "Sorry, that took too long";
    default:
      return "Sorry, there is a problem with the service";
  }
}

}  // namespace

struct DashboardServer::Impl {
  Impl(PerformanceServiceImpl& s, std::shared_ptr<const ReferenceData> r)
      : service(s), ref(std::move(r)) {}

  PerformanceServiceImpl& service;
  std::shared_ptr<const ReferenceData> ref;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::vector<html::ScopeOption> scopes;

  // The filters of one request, checked.
  struct Selection {
    std::string month;
    std::vector<std::string> months;  // with results, newest first
    icr::v1::Scope scope;
    std::string scope_value;
    std::string scope_label;
  };

  void BuildScopes();
  void Routes();
  // The caller of a request from its session cookie. On failure the response is already set:
  // pages redirect to /login, other resources get 401.
  std::optional<Caller> Session(const httplib::Request& req, httplib::Response& res, bool page);
  absl::StatusOr<icr::v1::Scope> ParseScope(const std::string& value, std::string* label) const;
  std::vector<std::string> MonthsWithResults(const Caller& caller);
  absl::StatusOr<Selection> Select(const httplib::Request& req, const Caller& caller);
  html::PageContext Context(const Caller& caller, const Selection& sel) const;
  // The request for one indicator's 24 months to the selected month, in the selected scope.
  static icr::v1::GetSeriesRequest TrendRequest(const std::string& id, const Selection& sel);
  void Fail(httplib::Response& res, const absl::Status& status, const html::PageContext* ctx);

  void Overview(const httplib::Request& req, httplib::Response& res);
  void IndicatorDetail(const httplib::Request& req, httplib::Response& res);
  void ExportCsv(const httplib::Request& req, httplib::Response& res);
  void Login(const httplib::Request& req, httplib::Response& res);
};

void DashboardServer::Impl::BuildScopes() {
  scopes.push_back({"all", "All of England", ""});
  const std::vector<std::pair<std::string, std::pair<std::string, std::string>>> kinds = {
      {"trust", {"provider", "Mental health trusts"}},
      {"icb", {"icb", "Integrated care boards"}},
      {"council", {"council", "Councils"}}};
  for (const auto& [kind, scope] : kinds) {
    std::vector<const Organisation*> orgs;
    for (const auto& [code, org] : ref->organisations()) {
      if (org.kind == kind) orgs.push_back(&org);
    }
    std::sort(orgs.begin(), orgs.end(),
              [](const auto* a, const auto* b) { return a->name < b->name; });
    for (const auto* org : orgs)
      scopes.push_back({scope.first + ":" + org->code, org->name, scope.second});
  }
}

absl::StatusOr<icr::v1::Scope> DashboardServer::Impl::ParseScope(const std::string& value,
                                                                 std::string* label) const {
  icr::v1::Scope scope;
  if (value.empty() || value == "all") {
    scope.set_type("all");
    *label = "All of England";
    return scope;
  }
  const size_t colon = value.find(':');
  static const std::map<std::string, std::string> kKinds = {
      {"provider", "trust"}, {"icb", "icb"}, {"council", "council"}};
  auto kind = colon == std::string::npos ? kKinds.end() : kKinds.find(value.substr(0, colon));
  if (kind == kKinds.end()) {
    return absl::InvalidArgumentError("scope: all, provider:CODE, icb:CODE or council:CODE");
  }
  scope.set_type(kind->first);
  scope.set_code(value.substr(colon + 1));
  RETURN_IF_ERROR(ref->CheckOrganisation(scope.code(), "scope", {kind->second}));
  *label = ref->FindOrganisation(scope.code())->name;
  return scope;
}

std::optional<Caller> DashboardServer::Impl::Session(const httplib::Request& req,
                                                     httplib::Response& res, bool page) {
  const std::string token = CookieValue(req, kCookie);
  absl::Status failure = absl::UnauthenticatedError("no session");
  if (PlausibleToken(token)) {
    auto caller = service.auth().AuthenticateToken(token);
    // The page shows what GetDashboard does: the same entry of the access policy.
    if (caller.ok()) {
      failure = access::Admit(*caller, "icr.v1.PerformanceService.GetDashboard");
      caller->purpose_of_use = "performance_dashboard";
      if (failure.ok()) return *caller;
    } else {
      failure = caller.status();
    }
  }
  if (failure.code() != absl::StatusCode::kUnauthenticated) {
    Fail(res, failure, nullptr);
    return std::nullopt;
  }
  if (!token.empty()) {  // revoked or unknown: forget it
    res.set_header("Set-Cookie",
                   std::string(kCookie) + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
  }
  if (page) {
    Redirect(res, "/login?next=" + html::UrlEncode(PathWithQuery(req)));
  } else {
    res.status = 401;
    res.set_content("sign in at /login first\n", "text/plain; charset=utf-8");
  }
  return std::nullopt;
}

std::vector<std::string> DashboardServer::Impl::MonthsWithResults(const Caller& caller) {
  // Every month is computed for all indicators at once, so the first indicator with results in
  // the England-level series tells which months have them.
  icr::v1::ListIndicatorsResponse indicators;
  if (!service.Indicators(&indicators).ok()) return {};
  const Month to = CurrentMonth();
  for (const auto& ind : indicators.indicators()) {
    icr::v1::GetSeriesRequest req;
    req.set_indicator_id(ind.id());
    req.set_from_month(MonthsBefore(to, kMonthsOffered - 1).ToString());
    req.set_to_month(to.ToString());
    req.mutable_scope()->set_type("all");
    icr::v1::Series series;
    if (!service.Series(caller, req, &series).ok() || series.figures().empty()) continue;
    std::vector<std::string> months;
    for (const auto& f : series.figures()) months.push_back(f.breakdown_value());
    std::sort(months.rbegin(), months.rend());
    months.erase(std::unique(months.begin(), months.end()), months.end());
    return months;
  }
  return {};
}

absl::StatusOr<DashboardServer::Impl::Selection> DashboardServer::Impl::Select(
    const httplib::Request& req, const Caller& caller) {
  Selection sel;
  ASSIGN_OR_RETURN(sel.scope, ParseScope(req.get_param_value("scope"), &sel.scope_label));
  sel.scope_value = sel.scope.type() == "all" ? "all" : sel.scope.type() + ":" + sel.scope.code();
  sel.months = MonthsWithResults(caller);
  if (req.has_param("month") && !req.get_param_value("month").empty()) {
    ASSIGN_OR_RETURN(const Month month, ParseMonth(req.get_param_value("month"), "month"));
    sel.month = month.ToString();
  } else {
    sel.month = sel.months.empty() ? CurrentMonth().Prev().ToString() : sel.months.front();
  }
  return sel;
}

html::PageContext DashboardServer::Impl::Context(const Caller& caller, const Selection& sel) const {
  html::PageContext c;
  c.user_org = caller.org_code;
  if (const Organisation* org = ref->FindOrganisation(caller.org_code)) c.user_org_name = org->name;
  c.user_role = RoleName(caller.role);
  c.month = sel.month;
  c.months = sel.months;
  c.scope = sel.scope_value;
  c.scope_label = sel.scope_label;
  c.scopes = scopes;
  return c;
}

icr::v1::GetSeriesRequest DashboardServer::Impl::TrendRequest(const std::string& id,
                                                              const Selection& sel) {
  icr::v1::GetSeriesRequest req;
  req.set_indicator_id(id);
  req.set_from_month(MonthsBefore(*ParseMonth(sel.month, "month"), kTrendMonths - 1).ToString());
  req.set_to_month(sel.month);
  *req.mutable_scope() = sel.scope;
  return req;
}

void DashboardServer::Impl::Fail(httplib::Response& res, const absl::Status& status,
                                 const html::PageContext* ctx) {
  const int code = HttpStatus(status);
  std::string message(status.message());
  if (code >= 500) {
    spdlog::warn("dashboard: {}", status.ToString());
    message = code == 503 ? "The database cannot be reached just now. Try again in a minute."
                          : "The page could not be shown. Try again later.";
  }
  SendPage(res, code, html::ErrorPage(ErrorTitle(code), message, ctx));
}

void DashboardServer::Impl::Overview(const httplib::Request& req, httplib::Response& res) {
  auto caller = Session(req, res, true);
  if (!caller) return;
  auto sel = Select(req, *caller);
  if (!sel.ok()) return Fail(res, sel.status(), nullptr);
  const auto ctx = Context(*caller, *sel);
  icr::v1::GetDashboardRequest dreq;
  dreq.set_month(sel->month);
  *dreq.mutable_scope() = sel->scope;
  dreq.set_breakdown("none");
  icr::v1::Dashboard dashboard;
  if (auto s = service.Dashboard(*caller, dreq, &dashboard); !s.ok()) return Fail(res, s, &ctx);

  std::map<std::string, icr::v1::Series> series;
  for (const auto& ind : dashboard.indicators()) {
    icr::v1::Series s;
    if (service.Series(*caller, TrendRequest(ind.id(), *sel), &s).ok() && !s.figures().empty()) {
      series[ind.id()] = std::move(s);
    }
  }
  // Overdue S117 reviews by how long overdue, listed on their tile.
  icr::v1::Dashboard bands;
  dreq.set_breakdown("overdue_band");
  if (auto s = service.Dashboard(*caller, dreq, &bands); !s.ok()) return Fail(res, s, &ctx);
  SendPage(res, 200, html::OverviewPage(ctx, dashboard, series, bands));
}

void DashboardServer::Impl::IndicatorDetail(const httplib::Request& req, httplib::Response& res) {
  auto caller = Session(req, res, true);
  if (!caller) return;
  auto sel = Select(req, *caller);
  if (!sel.ok()) return Fail(res, sel.status(), nullptr);
  const auto ctx = Context(*caller, *sel);
  const std::string id = req.matches[1];
  const icr::v1::GetSeriesRequest sreq = TrendRequest(id, *sel);
  icr::v1::Series series;
  if (auto s = service.Series(*caller, sreq, &series); !s.ok()) {
    if (s.code() == absl::StatusCode::kNotFound)
      s = absl::NotFoundError("There is no indicator " + id + ".");
    return Fail(res, s, &ctx);
  }

  icr::v1::GetDashboardRequest dreq;
  dreq.set_month(sel->month);
  *dreq.mutable_scope() = sel->scope;
  dreq.set_breakdown("ethnicity");
  icr::v1::Dashboard by_ethnicity;
  if (auto s = service.Dashboard(*caller, dreq, &by_ethnicity); !s.ok()) return Fail(res, s, &ctx);
  // The indicator's own breakdown (overdue bands, end reasons, qualifying sections) if it has one.
  icr::v1::Dashboard by_detail;
  if (!series.indicator().detail_breakdown().empty()) {
    dreq.set_breakdown(series.indicator().detail_breakdown());
    if (auto s = service.Dashboard(*caller, dreq, &by_detail); !s.ok()) return Fail(res, s, &ctx);
  }

  // Each council's total for the month and its SPC signal over the same 24 months.
  std::vector<html::CouncilRow> councils;
  for (const auto& option : scopes) {
    if (option.value.rfind("council:", 0) != 0) continue;
    icr::v1::GetSeriesRequest creq = sreq;
    creq.mutable_scope()->set_type("council");
    creq.mutable_scope()->set_code(option.value.substr(8));
    icr::v1::Series cs;
    if (auto s = service.Series(*caller, creq, &cs); !s.ok()) return Fail(res, s, &ctx);
    for (const auto& f : cs.figures()) {
      if (f.breakdown_value() != sel->month) continue;
      html::CouncilRow row{creq.scope().code(), option.label, f};
      row.figure.set_spc_signal(cs.spc().signal());
      councils.push_back(std::move(row));
    }
  }
  SendPage(res, 200, html::IndicatorPage(ctx, series, by_ethnicity, by_detail, councils));
}

void DashboardServer::Impl::ExportCsv(const httplib::Request& req, httplib::Response& res) {
  auto caller = Session(req, res, false);
  if (!caller) return;
  auto plain = [&](int status, const std::string& text) {
    res.status = status;
    res.set_content(text + "\n", "text/plain; charset=utf-8");
  };
  std::string label;
  auto scope = ParseScope(req.get_param_value("scope"), &label);
  if (!scope.ok()) return plain(400, std::string(scope.status().message()));
  std::string from = req.get_param_value("from"), to = req.get_param_value("to");
  if (from.empty()) from = req.get_param_value("month");
  if (from.empty()) {
    auto months = MonthsWithResults(*caller);
    from = months.empty() ? CurrentMonth().Prev().ToString() : months.front();
  }
  if (to.empty()) to = from;
  auto from_month = ParseMonth(from, "from");
  if (!from_month.ok()) return plain(400, std::string(from_month.status().message()));
  auto to_month = ParseMonth(to, "to");
  if (!to_month.ok()) return plain(400, std::string(to_month.status().message()));
  if (auto range = MonthRange(*from_month, *to_month, kMaxCsvMonths); !range.ok()) {
    return plain(400, std::string(range.status().message()));
  }
  icr::v1::ExportCsvRequest creq;
  creq.set_from_month(from);
  creq.set_to_month(to);
  *creq.mutable_scope() = *scope;
  const std::string name =
      "icr-indicators-" + from + (to == from ? "" : "-to-" + to) + "-" +
      (scope->type() == "all" ? "england" : scope->type() + "-" + scope->code()) + ".csv";
  res.set_header("Content-Disposition", "attachment; filename=\"" + name + "\"");
  // Streamed as the service produces it; the checks above leave only a failing database, which
  // cuts the download short (and is logged) rather than sending a partial file as complete.
  res.set_chunked_content_provider(
      "text/csv; charset=utf-8", [this, caller = *caller, creq](size_t, httplib::DataSink& sink) {
        absl::Status s = service.Csv(caller, creq, [&](const std::string& chunk) {
          return sink.write(chunk.data(), chunk.size());
        });
        if (!s.ok()) {
          spdlog::warn("dashboard: CSV export stopped: {}", s.ToString());
          return false;
        }
        sink.done();
        return true;
      });
}

void DashboardServer::Impl::Login(const httplib::Request& req, httplib::Response& res) {
  std::string token = req.get_param_value("token");
  token.erase(0, token.find_first_not_of(" \t\r\n"));
  token.erase(token.find_last_not_of(" \t\r\n") + 1);
  const std::string next = SafeNext(req.get_param_value("next"));
  if (!PlausibleToken(token)) {
    return SendPage(
        res, token.empty() ? 400 : 401,
        html::LoginPage(token.empty() ? "Enter your access token."
                                      : "That token was not recognised, or it has been revoked.",
                        next));
  }
  auto caller = service.auth().AuthenticateToken(token);
  if (!caller.ok()) {
    if (caller.status().code() == absl::StatusCode::kUnauthenticated) {
      return SendPage(
          res, 401,
          html::LoginPage("That token was not recognised, or it has been revoked.", next));
    }
    spdlog::warn("dashboard: sign-in failed: {}", caller.status().ToString());
    return SendPage(
        res, HttpStatus(caller.status()),
        html::LoginPage("The service cannot check tokens just now. Try again in a minute.", next));
  }
  // Secure when the request reached us over TLS (a terminating proxy says so).
  const bool tls = req.get_header_value("X-Forwarded-Proto") == "https";
  res.set_header("Set-Cookie", std::string(kCookie) + "=" + token +
                                   "; HttpOnly; SameSite=Strict; Path=/" + (tls ? "; Secure" : ""));
  spdlog::info("dashboard: sign-in org={} role={}", caller->org_code, RoleName(caller->role));
  Redirect(res, next);
}

void DashboardServer::Impl::Routes() {
  server.set_default_headers(kSecurityHeaders);
  server.set_payload_max_length(64 * 1024);
  server.set_read_timeout(std::chrono::seconds(10));
  server.set_write_timeout(std::chrono::seconds(60));
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    if (req.path == "/healthz") return;
    spdlog::info("dashboard {} {} {}", req.method, req.path, res.status);
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                  std::exception_ptr ep) {
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      spdlog::error("dashboard: {}", e.what());
    } catch (...) {
      spdlog::error("dashboard: unknown exception");
    }
    SendPage(
        res, 500,
        html::ErrorPage(ErrorTitle(500), "The page could not be shown. Try again later.", nullptr));
  });
  // Called for every status >= 400: fills in a page only where a handler left none (404s).
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        SendPage(
            res, res.status,
            html::ErrorPage(ErrorTitle(res.status),
                            res.status == 404 ? "There is no page at this address." : "", nullptr));
        return httplib::Server::HandlerResponse::Handled;
      }));

  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  server.Get("/login", [](const httplib::Request& req, httplib::Response& res) {
    SendPage(res, 200, html::LoginPage("", SafeNext(req.get_param_value("next"))));
  });
  server.Post("/login",
              [this](const httplib::Request& req, httplib::Response& res) { Login(req, res); });
  server.Get("/logout", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Set-Cookie",
                   std::string(kCookie) + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Redirect(res, "/login");
  });
  server.Get("/",
             [this](const httplib::Request& req, httplib::Response& res) { Overview(req, res); });
  server.Get(
      R"re(/indicator/([A-Za-z0-9_]{1,64}))re",
      [this](const httplib::Request& req, httplib::Response& res) { IndicatorDetail(req, res); });
  server.Get("/export.csv",
             [this](const httplib::Request& req, httplib::Response& res) { ExportCsv(req, res); });
}

DashboardServer::DashboardServer(PerformanceServiceImpl& service,
                                 std::shared_ptr<const ReferenceData> ref)
    : impl_(std::make_unique<Impl>(service, std::move(ref))) {
  impl_->BuildScopes();
  impl_->Routes();
}

DashboardServer::~DashboardServer() { Stop(); }

absl::Status DashboardServer::Start(const std::string& listen) {
  ASSIGN_OR_RETURN(impl_->port, BindHttp(impl_->server, listen, "dashboard"));
  impl_->thread = ServeHttp(impl_->server);
  return absl::OkStatus();
}

void DashboardServer::Stop() {
  if (!impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

int DashboardServer::port() const { return impl_->port; }

}  // namespace icr::perf
