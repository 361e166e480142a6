// Loads the reference data (reference.h) from the store.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "services/common/db.h"
#include "services/common/reference.h"

namespace icr {

absl::StatusOr<std::shared_ptr<const ReferenceData>> LoadReferenceData(Database& db);

}  // namespace icr
