// icr.v1.PerformanceService handlers: indicator definitions, dashboards, series and CSV from
// stored results, with disclosure control chosen by who asks and whose data it is.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "icr/v1/performance.grpc.pb.h"
#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/common/reference.h"
#include "services/performance/indicators.h"

namespace icr::perf {

// The scheduled refresh's singleton work name (core.singleton_lease).
inline constexpr char kRefreshWork[] = "kpi_refresh";

class PerformanceServiceImpl final : public icr::v1::PerformanceService::Service {
 public:
  // national_store: the store holds every organisation in England, so figures for all
  // organisations are England-level totals, shown unrounded (--national-store); otherwise they
  // are shared like any organisation's. read_db serves the reads that write nothing (no audit
  // row): dashboards, series, CSV and the reading part of a recompute, e.g. from a streaming
  // replica (--database-read-url); it may be db itself. Every write goes to db.
  PerformanceServiceImpl(Database& db, Database& read_db, Authenticator& auth,
                         std::shared_ptr<const ReferenceData> ref, bool national_store);
  ~PerformanceServiceImpl() override;

  // Recomputes the previous and the current month every `interval` on a background thread,
  // first after one interval (--kpi-refresh), each time only if `may_run` (when given) answers
  // true: icr-server runs it in the replica holding the singleton work kRefreshWork
  // (services/common/singleton.h). Two recomputes overlapping at a handover are harmless: each
  // month's results are replaced in one short transaction. Stops with the service.
  void StartScheduledRefresh(std::chrono::seconds interval,
                             std::function<bool()> may_run = nullptr);

  grpc::Status ListIndicators(grpc::ServerContext* ctx, const icr::v1::ListIndicatorsRequest* req,
                              icr::v1::ListIndicatorsResponse* resp) override;
  grpc::Status GetDashboard(grpc::ServerContext* ctx, const icr::v1::GetDashboardRequest* req,
                            icr::v1::Dashboard* resp) override;
  grpc::Status GetSeries(grpc::ServerContext* ctx, const icr::v1::GetSeriesRequest* req,
                         icr::v1::Series* resp) override;
  grpc::Status ExportCsv(grpc::ServerContext* ctx, const icr::v1::ExportCsvRequest* req,
                         grpc::ServerWriter<icr::v1::CsvChunk>* writer) override;
  grpc::Status ComputeIndicators(grpc::ServerContext* ctx,
                                 const icr::v1::ComputeIndicatorsRequest* req,
                                 icr::v1::ComputeIndicatorsResponse* resp) override;

  // The same operations for an already authenticated caller (the HTTP dashboard uses these).
  absl::Status Dashboard(const Caller& caller, const icr::v1::GetDashboardRequest& req,
                         icr::v1::Dashboard* resp);
  absl::Status Series(const Caller& caller, const icr::v1::GetSeriesRequest& req,
                      icr::v1::Series* resp);
  absl::Status Csv(const Caller& caller, const icr::v1::ExportCsvRequest& req,
                   const std::function<bool(const std::string&)>& emit);
  absl::Status Compute(const Caller& caller, const icr::v1::ComputeIndicatorsRequest& req,
                       icr::v1::ComputeIndicatorsResponse* resp);
  absl::Status Indicators(icr::v1::ListIndicatorsResponse* resp);

  Authenticator& auth() { return auth_; }

 private:
  absl::Status CheckScope(icr::v1::Scope* scope) const;
  // The disclosure control for caller reading scope's figures.
  std::unique_ptr<DisclosurePolicy> PolicyFor(const Caller& caller, const icr::v1::Scope& scope,
                                              pqxx::transaction_base& tx) const;

  Database& db_;
  Database& read_db_;
  Authenticator& auth_;
  std::shared_ptr<const ReferenceData> ref_;
  const bool national_store_;
  std::mutex refresh_mu_;
  std::condition_variable refresh_cv_;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace icr::perf
