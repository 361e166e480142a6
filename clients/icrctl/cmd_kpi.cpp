// kpi compute | list | dashboard | series | export: the PerformanceService from the command line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>

#include "clients/icrctl/client.h"
#include "clients/icrctl/commands.h"
#include "clients/icrctl/output.h"
#include "icr/v1/performance.grpc.pb.h"
#include "services/common/money.h"

namespace icrctl {
namespace {

// Recomputing a month over a large population is long work (the server allows 10 minutes).
std::chrono::seconds ComputeDeadline(int months) { return std::chrono::seconds(60 + 600 * months); }
constexpr std::chrono::seconds kExportDeadline{600};

std::unique_ptr<icr::v1::PerformanceService::Stub> Stub(const Client& client) {
  return icr::v1::PerformanceService::NewStub(client.channel());
}

// "all", or "provider:RGD", "icb:QWO", "council:E08000035".
icr::v1::Scope ScopeOf(const Invocation& inv) {
  icr::v1::Scope scope;
  const std::string text = inv.Has("scope") ? inv.Str("scope") : "all";
  if (text == "all") {
    scope.set_type("all");
    return scope;
  }
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    FailUsage(inv.name + ": --scope: all, provider:CODE, icb:CODE or council:CODE");
  }
  scope.set_type(text.substr(0, colon));
  scope.set_code(text.substr(colon + 1));
  return scope;
}

std::string ScopeText(const icr::v1::Scope& s) {
  return s.type() == "all" || s.type().empty() ? "all" : s.type() + ":" + s.code();
}

std::string Required(const Invocation& inv, const std::string& flag) {
  if (!inv.Has(flag)) FailUsage(inv.name + ": --" + flag + " is required");
  return inv.Str(flag);
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string Target(const icr::v1::Indicator& ind) {
  return ind.has_target() ? Number(ind.target()) : "";
}

std::string Direction(icr::v1::Direction d) {
  switch (d) {
    case icr::v1::HIGHER_IS_BETTER: return "higher";
    case icr::v1::LOWER_IS_BETTER: return "lower";
    default: return "none";
  }
}

int Compute(const Invocation& inv) {
  icr::v1::ComputeIndicatorsRequest req;
  if (inv.Has("month")) {
    if (inv.Has("from") || inv.Has("to")) FailUsage(inv.name + ": give --month or --from/--to, not both");
    req.set_from_month(inv.Str("month"));
  } else {
    req.set_from_month(Required(inv, "from"));
    req.set_to_month(Required(inv, "to"));
  }
  int months = 1;
  int fy = 0, fm = 0, ty = 0, tm = 0;
  if (!req.to_month().empty() && std::sscanf(req.from_month().c_str(), "%d-%d", &fy, &fm) == 2 &&
      std::sscanf(req.to_month().c_str(), "%d-%d", &ty, &tm) == 2) {
    months = std::max(1, (ty - fy) * 12 + (tm - fm) + 1);
  }
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx, ComputeDeadline(std::min(months, 120)));
  icr::v1::ComputeIndicatorsResponse resp;
  Check(Stub(client)->ComputeIndicators(&ctx, req, &resp));
  if (inv.globals.json) {
    out::PrintJson(resp);
    return 0;
  }
  char took[32];
  std::snprintf(took, sizeof took, "%.1f s", resp.seconds());
  out::Fields f;
  f.Add("Months", std::to_string(resp.months()));
  f.Add("Results", std::to_string(resp.results()));
  f.Add("Took", took);
  f.Print(std::cout, "");
  return 0;
}

int List(const Invocation& inv) {
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  icr::v1::ListIndicatorsResponse resp;
  Check(Stub(client)->ListIndicators(&ctx, icr::v1::ListIndicatorsRequest(), &resp));
  if (inv.globals.json) {
    out::PrintJson(resp);
    return 0;
  }
  out::Table t({"ID", "GROUP", "UNIT", "TARGET", "BETTER", "NAME"});
  for (const auto& i : resp.indicators()) {
    t.Row({i.id(), i.group(), i.unit(), Target(i), Direction(i.direction()), i.name()});
  }
  t.Print(std::cout);
  return 0;
}

// A figure's value for people: money ("16252.31", pounds) as "£16,252.31", others as given.
std::string ShownValue(const std::string& value, const std::string& unit) {
  if (unit != "pounds_per_week") return value;
  const auto pence = icr::ParsePounds(value);
  return pence ? icr::FormatPounds(*pence) : value;
}

int Dashboard(const Invocation& inv) {
  icr::v1::GetDashboardRequest req;
  req.set_month(Required(inv, "month"));
  *req.mutable_scope() = ScopeOf(inv);
  req.set_breakdown(inv.Has("breakdown") ? inv.Str("breakdown") : "none");
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  icr::v1::Dashboard d;
  Check(Stub(client)->GetDashboard(&ctx, req, &d));
  if (inv.globals.json) {
    out::PrintJson(d);
    return 0;
  }
  std::cout << "Month " << d.month() << ", scope " << ScopeText(d.scope()) << ", breakdown "
            << d.breakdown() << ", disclosure " << d.disclosure_policy() << "\n\n";
  std::map<std::string, const icr::v1::Indicator*> by_id;
  for (const auto& i : d.indicators()) by_id[i.id()] = &i;
  out::Table t({"INDICATOR", "BREAKDOWN", "NUMERATOR", "DENOMINATOR", "VALUE", "TARGET", "SPC"});
  for (const auto& f : d.figures()) {
    auto it = by_id.find(f.indicator_id());
    const std::string unit = it == by_id.end() ? "" : it->second->unit();
    t.Row({f.indicator_id(), f.breakdown_value(), f.numerator(), f.denominator(),
           ShownValue(f.value(), unit), it == by_id.end() ? "" : Target(*it->second),
           f.spc_signal()});
  }
  t.Print(std::cout);
  if (t.empty()) std::cout << "(no results for this month: run icrctl kpi compute)\n";
  return 0;
}

int Series(const Invocation& inv) {
  icr::v1::GetSeriesRequest req;
  req.set_indicator_id(Required(inv, "indicator"));
  req.set_from_month(Required(inv, "from"));
  req.set_to_month(Required(inv, "to"));
  *req.mutable_scope() = ScopeOf(inv);
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  icr::v1::Series s;
  Check(Stub(client)->GetSeries(&ctx, req, &s));
  if (inv.globals.json) {
    out::PrintJson(s);
    return 0;
  }
  std::cout << s.indicator().id() << ": " << s.indicator().name() << " (scope "
            << ScopeText(s.scope()) << ", disclosure " << s.disclosure_policy() << ")\n\n";
  std::map<std::string, const icr::v1::Figure*> by_month;
  for (const auto& f : s.figures()) by_month[f.breakdown_value()] = &f;
  out::Table t({"MONTH", "NUMERATOR", "DENOMINATOR", "VALUE", "SPECIAL CAUSE"});
  for (const auto& p : s.points()) {
    auto it = by_month.find(p.month());
    const icr::v1::Figure* f = it == by_month.end() ? nullptr : it->second;
    std::string cause;
    if (p.beyond_limit()) cause += "beyond limit";
    if (p.run()) cause += std::string(cause.empty() ? "" : ", ") + "run";
    if (p.trend()) cause += std::string(cause.empty() ? "" : ", ") + "trend";
    t.Row({p.month(), f ? f->numerator() : "", f ? f->denominator() : "",
           f ? ShownValue(f->value(), s.indicator().unit()) : "", cause});
  }
  t.Print(std::cout);
  const auto& spc = s.spc();
  char line[160];
  std::snprintf(line, sizeof line, "\nmean %.2f, limits %.2f to %.2f, %d points, signal %s\n",
                spc.mean(), spc.lower_limit(), spc.upper_limit(), spc.points(), spc.signal().c_str());
  std::cout << line;
  return 0;
}

int Export(const Invocation& inv) {
  icr::v1::ExportCsvRequest req;
  req.set_from_month(Required(inv, "from"));
  req.set_to_month(inv.Has("to") ? inv.Str("to") : req.from_month());
  *req.mutable_scope() = ScopeOf(inv);
  Client client(inv.globals);
  grpc::ClientContext ctx;
  client.Prepare(ctx, kExportDeadline);
  auto reader = Stub(client)->ExportCsv(&ctx, req);
  icr::v1::CsvChunk chunk;
  while (reader->Read(&chunk)) std::cout << chunk.text();
  std::cout.flush();
  Check(reader->Finish());
  return 0;
}

void ScopeOption(cxxopts::Options& o) {
  o.add_options()("scope", "all (default), provider:ODS, icb:ODS or council:GSS",
                  cxxopts::value<std::string>());
}

}  // namespace

void AddKpiCommands(std::vector<Command>& commands) {
  commands.push_back(
      {{"kpi", "compute"},
       "recompute every indicator for a month or a range of months",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("month", "one month, YYYY-MM", cxxopts::value<std::string>())
           ("from", "first month, YYYY-MM", cxxopts::value<std::string>())
           ("to", "last month (inclusive), YYYY-MM", cxxopts::value<std::string>());
         // clang-format on
       },
       Compute});
  commands.push_back({{"kpi", "list"}, "list the indicators: id, group, unit, target", "", nullptr, List});
  commands.push_back(
      {{"kpi", "dashboard"},
       "every indicator's figure for one month and scope (--json: the Dashboard message)",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("month", "YYYY-MM", cxxopts::value<std::string>())
           ("breakdown", "none (default), ethnicity, age_band, sex, or an indicator's own: "
                         "overdue_band, end_reason, qualifying_section", cxxopts::value<std::string>());
         // clang-format on
         ScopeOption(o);
       },
       Dashboard});
  commands.push_back(
      {{"kpi", "series"},
       "one indicator month by month, with its SPC (XmR) limits and special causes",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("indicator", "indicator id, e.g. FU72", cxxopts::value<std::string>())
           ("from", "first month, YYYY-MM", cxxopts::value<std::string>())
           ("to", "last month, YYYY-MM", cxxopts::value<std::string>());
         // clang-format on
         ScopeOption(o);
       },
       Series});
  commands.push_back(
      {{"kpi", "export"},
       "CSV in NHS England's long format to standard output",
       "",
       [](cxxopts::Options& o) {
         // clang-format off
         o.add_options()
           ("from", "first month, YYYY-MM", cxxopts::value<std::string>())
           ("to", "last month (default: --from), YYYY-MM", cxxopts::value<std::string>());
         // clang-format on
         ScopeOption(o);
       },
       Export});
}

}  // namespace icrctl
