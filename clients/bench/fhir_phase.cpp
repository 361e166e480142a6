#include "clients/bench/fhir_phase.h"

#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <iostream>
#include <thread>

#include "icr/v1/record.grpc.pb.h"

namespace icr::bench {
namespace {

using json = nlohmann::json;

json Row(const std::string& what, const LoadResult& r, double rss) {
  return {{"phase", "fhir"},    {"what", what},       {"callers", r.callers},
          {"calls", r.calls},   {"errors", r.errors}, {"qps", r.qps},
          {"p50_ms", r.p50_ms}, {"p99_ms", r.p99_ms}, {"peak_rss_mb", rss}};
}

std::unique_ptr<httplib::Client> Client(const std::string& address) {
  auto c = std::make_unique<httplib::Client>("http://" + address);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  c->set_read_timeout(30, 0);
  return c;
}

httplib::Headers Auth(const std::string& token) {
  return {{"Authorization", "Bearer " + token}, {"x-purpose-of-use", "benchmark"}};
}

}  // namespace

bool RunFhirPhase(const FhirPhaseOptions& o,
                  const std::vector<std::shared_ptr<grpc::Channel>>& grpc_channels,
                  const std::function<double()>& take_rss,
                  const std::function<void(const json&)>& print) {
  if (!Client(o.fhir)->Get("/fhir/metadata")) {
    std::cerr << "icr-bench: fhir: nothing answers on http://" << o.fhir << "/fhir\n";
    return false;
  }
  const auto& ids = o.person_ids;
  for (int callers : o.callers) {
    std::vector<std::unique_ptr<icr::v1::RecordService::Stub>> stubs;
    std::vector<std::unique_ptr<httplib::Client>> clients;
    for (int i = 0; i < callers; ++i) {
      stubs.push_back(icr::v1::RecordService::NewStub(grpc_channels[i % grpc_channels.size()]));
      clients.push_back(Client(o.fhir));
    }
    auto person = [&](int c, int64_t i) {
      return ids[(static_cast<size_t>(c) * 7919 + static_cast<size_t>(i) * 104729) % ids.size()];
    };
    auto g = RunLoad(callers, o.duration, [&](int c, int64_t i) {
      grpc::ClientContext ctx;
      ctx.AddMetadata("authorization", "Bearer " + o.token);
      ctx.AddMetadata("x-purpose-of-use", "benchmark");
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      icr::v1::GetIntegratedRecordRequest req;
      req.set_person_id(person(c, i));
      icr::v1::IntegratedRecord rec;
      return stubs[c]->GetIntegratedRecord(&ctx, req, &rec).ok();
    });
    print(Row("GetIntegratedRecord by person id (gRPC)", g, take_rss()));
    const httplib::Headers headers = Auth(o.token);
    auto f = RunLoad(callers, o.duration, [&](int c, int64_t i) {
      auto r = clients[c]->Get(("/fhir/Patient/" + person(c, i) + "/$everything").c_str(), headers);
      return r && r->status == 200;
    });
    json row = Row("Patient/{id}/$everything (FHIR)", f, take_rss());
    row["vs_grpc_pct"] = g.qps > 0 ? 100.0 * f.qps / g.qps : 0;
    print(row);
  }

  // The export of every person the organisation sees: kick-off, poll, count.
  auto client = Client(o.fhir);
  httplib::Headers kick = Auth(o.token);
  kick.emplace("Prefer", "respond-async");
  kick.emplace("Accept", "application/fhir+json");
  const auto started = std::chrono::steady_clock::now();
  auto r = client->Get("/fhir/Patient/$export", kick);
  if (!r || r->status != 202) {
    std::cerr << "icr-bench: fhir: export kick-off answered "
              << (r ? std::to_string(r->status) + " " + r->body : "nothing") << "\n";
    return true;
  }
  std::string status_url = r->get_header_value("Content-Location");
  const auto path_at = status_url.find("/fhir/");
  status_url = path_at == std::string::npos ? status_url : status_url.substr(path_at);
  int64_t resources = 0;
  bool done = false;
  while (std::chrono::steady_clock::now() - started < o.export_timeout) {
    auto s = client->Get(status_url.c_str(), Auth(o.token));
    if (!s) break;
    if (s->status == 200) {
      const json manifest = json::parse(s->body, nullptr, false);
      if (manifest.is_object() && manifest.contains("output")) {
        for (const auto& out : manifest["output"]) resources += out.value("count", int64_t{0});
      }
      done = true;
      break;
    }
    if (s->status != 202) {
      std::cerr << "icr-bench: fhir: export status " << s->status << " " << s->body << "\n";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  LoadResult e;
  e.callers = 1;
  e.calls = resources;
  e.errors = done ? 0 : 1;
  e.seconds = seconds;
  e.qps = seconds > 0 ? resources / seconds : 0;
  json row = Row("Patient/$export, resources", e, take_rss());
  row["seconds"] = seconds;
  print(row);
  client->Delete(status_url.c_str(), Auth(o.token));  // the files may go
  return true;
}

}  // namespace icr::bench
