#include "services/performance/performance_service.h"

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "services/common/access.h"
#include "services/common/grpc_status.h"
#include "services/performance/indicators.h"
#include "services/performance/store.h"

namespace icr::perf {
namespace {
using google::protobuf::util::TimeUtil;

constexpr int kSpcMonths = 24;  // history behind each SPC signal
constexpr int kMaxComputeMonths = 120;
constexpr int kMaxSeriesMonths = 120;
// Recomputing a month over a large population is known long work.
constexpr auto kComputeTimeout = std::chrono::minutes(10);

icr::v1::Owner OwnerOf(const std::string& s) {
  if (s == "health") return icr::v1::HEALTH;
  if (s == "social_care") return icr::v1::SOCIAL_CARE;
  return icr::v1::JOINT;
}

icr::v1::Direction DirectionOf(const std::string& s) {
  if (s == "higher") return icr::v1::HIGHER_IS_BETTER;
  if (s == "lower") return icr::v1::LOWER_IS_BETTER;
  return icr::v1::NO_DIRECTION;
}

void ToProto(const IndicatorDef& d, icr::v1::Indicator* out) {
  out->set_id(d.id);
  out->set_name(d.name);
  out->set_owner(OwnerOf(d.owner));
  out->set_group(d.group);
  out->set_definition(d.definition);
  out->set_has_target(d.target.has_value());
  out->set_target(d.target.value_or(0));
  out->set_direction(DirectionOf(d.direction));
  out->set_unit(d.unit);
  out->set_version(d.version);
  out->set_detail_breakdown(d.detail_breakdown);
}

// A figure as the reader may see it.
icr::v1::Figure Show(const StoredFigure& f, const DisclosurePolicy& policy,
                     const IndicatorDef* def) {
  icr::v1::Figure out;
  out.set_indicator_id(f.indicator_id);
  out.set_breakdown_value(f.breakdown_value);
  Shown s = policy.Apply(f.raw);
  out.set_suppressed(s.suppressed);
  out.set_numerator(s.numerator);
  out.set_denominator(s.denominator);
  out.set_value(s.value);
  if (!s.value.empty() && s.value != "*") {
    out.set_has_value(true);
    out.set_raw_value(std::stod(s.value));
  }
  if (def && def->target) {
    out.set_has_target(true);
    out.set_target(*def->target);
  }
  *out.mutable_computed_at() = TimeUtil::MicrosecondsToTimestamp(f.computed_at_us);
  return out;
}

// SPC over the values the reader may see, one per month from `from` to `to`.
SpcResult SpcOf(const std::vector<StoredFigure>& totals, const Month& from, const Month& to,
                const DisclosurePolicy& policy, const std::string& direction,
                std::vector<std::pair<Month, std::optional<double>>>* points = nullptr) {
  std::map<std::string, const StoredFigure*> by_month;
  for (const auto& f : totals) by_month[f.period_start.substr(0, 7)] = &f;
  std::vector<std::optional<double>> values;
  for (Month m = from; !(to < m); m = m.Next()) {
    std::optional<double> v;
    auto it = by_month.find(m.ToString());
    if (it != by_month.end()) {
      Shown s = policy.Apply(it->second->raw);
      if (!s.value.empty() && s.value != "*") v = std::stod(s.value);
    }
    values.push_back(v);
    if (points) points->emplace_back(m, v);
  }
  return ComputeSpc(values, direction);
}

}  // namespace

PerformanceServiceImpl::PerformanceServiceImpl(Database& db, Database& read_db, Authenticator& auth,
                                               std::shared_ptr<const ReferenceData> ref,
                                               bool national_store)
    : db_(db),
      read_db_(read_db),
      auth_(auth),
      ref_(std::move(ref)),
      national_store_(national_store) {}

PerformanceServiceImpl::~PerformanceServiceImpl() {
  {
    std::lock_guard lock(refresh_mu_);
    stopping_ = true;
  }
  refresh_cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

void PerformanceServiceImpl::StartScheduledRefresh(std::chrono::seconds interval,
                                                   std::function<bool()> may_run) {
  if (interval.count() <= 0 || refresher_.joinable()) return;
  refresher_ = std::thread([this, interval, may_run = std::move(may_run)] {
    Caller scheduler;  // the server itself
    scheduler.role = Role::kSystem;
    scheduler.purpose_of_use = "scheduled_refresh";
    std::unique_lock lock(refresh_mu_);
    while (!refresh_cv_.wait_for(lock, interval, [this] { return stopping_; })) {
      if (may_run && !may_run()) continue;  // another replica refreshes
      lock.unlock();
      const std::chrono::year_month_day today{Today()};
      const Month current{static_cast<int>(today.year()), static_cast<unsigned>(today.month())};
      icr::v1::ComputeIndicatorsRequest req;
      req.set_from_month(current.Prev().ToString());
      req.set_to_month(current.ToString());
      icr::v1::ComputeIndicatorsResponse resp;
      absl::Status s = Compute(scheduler, req, &resp);
      if (s.ok()) {
        spdlog::info("kpi refresh: {} months, {} results in {:.1f} s", resp.months(),
                     resp.results(), resp.seconds());
      } else {
        spdlog::warn("kpi refresh failed: {}", s.ToString());
      }
      lock.lock();
    }
  });
}

absl::Status PerformanceServiceImpl::CheckScope(icr::v1::Scope* scope) const {
  if (scope->type().empty()) scope->set_type("all");
  if (scope->type() == "all") {
    if (!scope->code().empty()) return InvalidField("scope.code", "must be empty for scope all");
    return absl::OkStatus();
  }
  static const std::map<std::string, std::string> kKinds = {
      {"provider", "trust"}, {"icb", "icb"}, {"council", "council"}};
  auto kind = kKinds.find(scope->type());
  if (kind == kKinds.end()) {
    return InvalidField("scope.type", "one of all, provider, icb, council");
  }
  return ref_->CheckOrganisation(scope->code(), "scope.code", {kind->second});
}

std::unique_ptr<DisclosurePolicy> PerformanceServiceImpl::PolicyFor(
    const Caller& caller, const icr::v1::Scope& scope, pqxx::transaction_base& tx) const {
  return SelectPolicy(caller.org_code, scope.type(), scope.code(),
                      PerformanceStore::SharedPolicy(tx), national_store_);
}

absl::Status PerformanceServiceImpl::Indicators(icr::v1::ListIndicatorsResponse* resp) {
  return read_db_.Read([&](pqxx::nontransaction& tx) {
    for (const auto& d : PerformanceStore::Indicators(tx)) ToProto(d, resp->add_indicators());
    return absl::OkStatus();
  });
}

absl::Status PerformanceServiceImpl::Dashboard(const Caller& caller,
                                               const icr::v1::GetDashboardRequest& req,
                                               icr::v1::Dashboard* resp) {
  ASSIGN_OR_RETURN(const Month month, ParseMonth(req.month(), "month"));
  icr::v1::Scope scope = req.scope();
  RETURN_IF_ERROR(CheckScope(&scope));
  std::string breakdown = req.breakdown().empty() ? "none" : req.breakdown();
  const auto& breakdowns = PerformanceStore::Breakdowns();
  if (std::find(breakdowns.begin(), breakdowns.end(), breakdown) == breakdowns.end()) {
    std::string names;
    for (const auto& b : breakdowns) names += (names.empty() ? "" : ", ") + b;
    return InvalidField("breakdown", "one of " + names);
  }
  return read_db_.Read([&](pqxx::nontransaction& tx) {
    auto defs = PerformanceStore::Indicators(tx);
    auto policy = PolicyFor(caller, scope, tx);
    resp->set_month(month.ToString());
    *resp->mutable_scope() = scope;
    resp->set_breakdown(breakdown);
    resp->set_disclosure_policy(policy->name());
    std::map<std::string, const IndicatorDef*> by_id;
    for (const auto& d : defs) {
      ToProto(d, resp->add_indicators());
      by_id[d.id] = &d;
    }
    const Month from = MonthsBefore(month, kSpcMonths - 1);
    auto totals = PerformanceStore::Totals(tx, from, month, scope.type(), scope.code(), "");
    std::map<std::string, std::vector<StoredFigure>> series;
    for (auto& t : totals) series[t.indicator_id].push_back(t);
    for (const auto& f :
         PerformanceStore::Figures(tx, month, scope.type(), scope.code(), breakdown)) {
      auto def = by_id.find(f.indicator_id);
      if (def == by_id.end()) continue;
      auto figure = Show(f, *policy, def->second);
      if (breakdown == "none") {
        figure.set_spc_signal(
            SpcOf(series[f.indicator_id], from, month, *policy, def->second->direction).signal);
      }
      *resp->add_figures() = std::move(figure);
    }
    return absl::OkStatus();
  });
}

absl::Status PerformanceServiceImpl::Series(const Caller& caller,
                                            const icr::v1::GetSeriesRequest& req,
                                            icr::v1::Series* resp) {
  ASSIGN_OR_RETURN(const Month from, ParseMonth(req.from_month(), "from_month"));
  ASSIGN_OR_RETURN(const Month to, ParseMonth(req.to_month(), "to_month"));
  RETURN_IF_ERROR(MonthRange(from, to, kMaxSeriesMonths).status());
  icr::v1::Scope scope = req.scope();
  RETURN_IF_ERROR(CheckScope(&scope));
  return read_db_.Read([&](pqxx::nontransaction& tx) -> absl::Status {
    auto defs = PerformanceStore::Indicators(tx);
    const IndicatorDef* def = nullptr;
    for (const auto& d : defs) {
      if (d.id == req.indicator_id()) def = &d;
    }
    if (!def) return absl::NotFoundError("indicator_id: no such indicator");
    auto policy = PolicyFor(caller, scope, tx);
    ToProto(*def, resp->mutable_indicator());
    *resp->mutable_scope() = scope;
    resp->set_disclosure_policy(policy->name());
    auto totals = PerformanceStore::Totals(tx, from, to, scope.type(), scope.code(), def->id);
    for (const auto& f : totals) {
      auto figure = Show(f, *policy, def);
      figure.set_breakdown_value(f.period_start.substr(0, 7));
      *resp->add_figures() = std::move(figure);
    }
    std::vector<std::pair<Month, std::optional<double>>> points;
    SpcResult spc = SpcOf(totals, from, to, *policy, def->direction, &points);
    auto* s = resp->mutable_spc();
    s->set_mean(spc.mean);
    s->set_upper_limit(spc.upper);
    s->set_lower_limit(spc.lower);
    s->set_points(spc.points);
    s->set_signal(spc.signal);
    for (size_t i = 0; i < points.size(); ++i) {
      auto* p = resp->add_points();
      p->set_month(points[i].first.ToString());
      p->set_has_value(points[i].second.has_value());
      p->set_value(points[i].second.value_or(0));
      p->set_beyond_limit(spc.beyond_limit[i]);
      p->set_run(spc.run[i]);
      p->set_trend(spc.trend[i]);
    }
    return absl::OkStatus();
  });
}

absl::Status PerformanceServiceImpl::Csv(const Caller& caller, const icr::v1::ExportCsvRequest& req,
                                         const std::function<bool(const std::string&)>& emit) {
  ASSIGN_OR_RETURN(const Month from, ParseMonth(req.from_month(), "from_month"));
  ASSIGN_OR_RETURN(
      const Month to,
      ParseMonth(req.to_month().empty() ? req.from_month() : req.to_month(), "to_month"));
  RETURN_IF_ERROR(MonthRange(from, to, kMaxSeriesMonths).status());
  icr::v1::Scope scope = req.scope();
  RETURN_IF_ERROR(CheckScope(&scope));
  return read_db_.Read([&](pqxx::nontransaction& tx) -> absl::Status {
    std::map<std::string, IndicatorDef> defs;
    for (auto& d : PerformanceStore::Indicators(tx)) defs[d.id] = d;
    auto policy = PolicyFor(caller, scope, tx);
    std::string level = scope.type() == "all" ? "England" : scope.code();
    std::string level_name = "England";
    if (scope.type() != "all") {
      const Organisation* org = ref_->FindOrganisation(scope.code());
      level_name = org ? org->name : scope.code();
    }
    std::string chunk = CsvHeader();
    for (const auto& [breakdown, f] :
         PerformanceStore::AllFigures(tx, from, to, scope.type(), scope.code())) {
      auto def = defs.find(f.indicator_id);
      if (def == defs.end()) continue;
      Shown s = policy->Apply(f.raw);
      auto month = ParseMonth(f.period_start.substr(0, 7), "period");
      const std::string prefix =
          CsvField(f.period_start) + "," + CsvField(FormatDate(month->last())) + "," +
          CsvField(scope.type() == "all"
                       ? (breakdown == "none" ? "England" : "England; " + breakdown)
                       : (breakdown == "none" ? scope.type() : scope.type() + "; " + breakdown)) +
          "," + CsvField(level) + "," + CsvField(level_name) + "," +
          CsvField(breakdown == "none" ? "NONE" : f.breakdown_value) + "," +
          CsvField(breakdown == "none" ? "NONE" : f.breakdown_value) + ",";
      auto line = [&](const std::string& id, const std::string& name, const std::string& v) {
        if (v.empty()) return;
        chunk += prefix + CsvField(id) + "," + CsvField(name) + "," + CsvField(v) + "\n";
      };
      line(def->first, def->second.name, s.value);
      if (def->second.kind == "ratio") {
        line(def->first + "_NUMERATOR", def->second.name + " (numerator)", s.numerator);
        line(def->first + "_DENOMINATOR", def->second.name + " (denominator)", s.denominator);
      }
      if (chunk.size() > 32 * 1024) {
        if (!emit(chunk)) return absl::CancelledError("client went away");
        chunk.clear();
      }
    }
    if (!chunk.empty() && !emit(chunk)) return absl::CancelledError("client went away");
    return absl::OkStatus();
  });
}

absl::Status PerformanceServiceImpl::Compute(const Caller& caller,
                                             const icr::v1::ComputeIndicatorsRequest& req,
                                             icr::v1::ComputeIndicatorsResponse* resp) {
  if (caller.role != Role::kAdmin && caller.role != Role::kPerformanceAnalyst &&
      caller.role != Role::kSystem) {
    return absl::PermissionDeniedError(
        "computing indicators needs admin, performance_analyst or system");
  }
  ASSIGN_OR_RETURN(const Month from, ParseMonth(req.from_month(), "from_month"));
  ASSIGN_OR_RETURN(
      const Month to,
      ParseMonth(req.to_month().empty() ? req.from_month() : req.to_month(), "to_month"));
  ASSIGN_OR_RETURN(const std::vector<Month> months, MonthRange(from, to, kMaxComputeMonths));
  const auto start = std::chrono::steady_clock::now();
  int64_t rows = 0;
  for (const auto& m : months) {
    // The long part only reads (a consistent snapshot that takes no transaction id, so the
    // change feed is never held back), on the read database (a replica when one is configured);
    // a short transaction on the primary then replaces the month's results.
    std::vector<ResultRow> results;
    RETURN_IF_ERROR(read_db_.Run(
        [&](pqxx::connection& c) {
          pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
          results = PerformanceStore::ComputeMonth(tx, m);
          tx.commit();
          return absl::OkStatus();
        },
        kComputeTimeout));
    RETURN_IF_ERROR(db_.Write([&](pqxx::work& tx) {
      rows += PerformanceStore::ReplaceMonth(tx, m, results);
      return absl::OkStatus();
    }));
  }
  resp->set_months(static_cast<int>(months.size()));
  resp->set_results(rows);
  resp->set_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return absl::OkStatus();
}

grpc::Status PerformanceServiceImpl::ListIndicators(grpc::ServerContext* ctx,
                                                    const icr::v1::ListIndicatorsRequest*,
                                                    icr::v1::ListIndicatorsResponse* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.PerformanceService.ListIndicators");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Indicators(resp));
}

grpc::Status PerformanceServiceImpl::GetDashboard(grpc::ServerContext* ctx,
                                                  const icr::v1::GetDashboardRequest* req,
                                                  icr::v1::Dashboard* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.PerformanceService.GetDashboard");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Dashboard(*caller, *req, resp));
}

grpc::Status PerformanceServiceImpl::GetSeries(grpc::ServerContext* ctx,
                                               const icr::v1::GetSeriesRequest* req,
                                               icr::v1::Series* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.PerformanceService.GetSeries");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Series(*caller, *req, resp));
}

grpc::Status PerformanceServiceImpl::ExportCsv(grpc::ServerContext* ctx,
                                               const icr::v1::ExportCsvRequest* req,
                                               grpc::ServerWriter<icr::v1::CsvChunk>* writer) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.PerformanceService.ExportCsv");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Csv(*caller, *req, [&](const std::string& text) {
    icr::v1::CsvChunk chunk;
    chunk.set_text(text);
    return writer->Write(chunk);
  }));
}

grpc::Status PerformanceServiceImpl::ComputeIndicators(grpc::ServerContext* ctx,
                                                       const icr::v1::ComputeIndicatorsRequest* req,
                                                       icr::v1::ComputeIndicatorsResponse* resp) {
  auto caller = Access::Admit(auth_, *ctx, "icr.v1.PerformanceService.ComputeIndicators");
  if (!caller.ok()) return ToGrpc(caller.status());
  return ToGrpc(Compute(*caller, *req, resp));
}

}  // namespace icr::perf
