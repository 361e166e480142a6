// PLACEHOLDER for the CLD mapper written on branch i21-cld (helper "cld"): the agreed signature
// only, so that the dataset import and icrctl build. The lead takes cld's version at merge.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "services/datasets/dataset.h"

namespace icr::datasets {

// A council's CLD return (one CSV table) as people and Care Act events for council_code.
absl::StatusOr<Mapped> MapCld(const Table& table, const std::string& council_code);

}  // namespace icr::datasets
