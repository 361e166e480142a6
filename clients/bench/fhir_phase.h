// icr-bench's FHIR phase: Patient/{id}/$everything over HTTP keep-alive beside the gRPC read of
// the same people, and the bulk export rate.
#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "clients/bench/load.h"

namespace icr::bench {

struct FhirPhaseOptions {
  std::string fhir;   // host:port of the FHIR API
  std::string token;  // its organisation's people are read and exported
  std::vector<std::string> person_ids;
  std::vector<int> callers;  // e.g. 1 and 8
  std::chrono::milliseconds duration{5000};
  std::chrono::seconds export_timeout{600};
};

// Prints rows through `print` (phase "fhir"): per number of callers the gRPC read, then the FHIR
// read of the same people (with its share of the gRPC figure), then the export: resources per
// second. grpc_channels: one per caller. Returns false when the FHIR API does not answer.
bool RunFhirPhase(const FhirPhaseOptions& o,
                  const std::vector<std::shared_ptr<grpc::Channel>>& grpc_channels,
                  const std::function<double()>& take_rss,
                  const std::function<void(const nlohmann::json&)>& print);

}  // namespace icr::bench
