// icr-bench's import phase: the same synthetic MHSDS rows loaded through the dataset route
// (RecordService.ImportDataset, a per-table CSV upload) and through ImportEvents (the rows mapped
// here with services/datasets and streamed as people and events), each with its own people;
// items (people and events) written per second; then a council's CLD return the same two ways
// (tests/support/cld_fixture's return, with people of this run) when a council token is given.
#pragma once

#include <grpcpp/channel.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace icr::bench {

struct ImportPhaseOptions {
  std::shared_ptr<grpc::Channel> channel;
  std::string token;  // a trust's system token: the rows are that trust's
  std::string council_token;  // a council's system token: its CLD return ("": no CLD route)
  int people = 2000;  // per route; each with a referral, two contacts and an accommodation status
};

// Prints one row per route through `print` (phase "import"). False when a route failed.
bool RunImportPhase(const ImportPhaseOptions& o, const std::function<double()>& take_rss,
                    const std::function<void(const nlohmann::json&)>& print);

}  // namespace icr::bench
