#include "services/common/status.h"

#include <string>

namespace icr {

absl::Status InvalidField(std::string_view field, std::string_view reason) {
  return absl::InvalidArgumentError(std::string(field) + ": " + std::string(reason));
}

absl::Status RefusedField(std::string_view field, std::string_view reason) {
  return absl::FailedPreconditionError(std::string(field) + ": " + std::string(reason));
}

}  // namespace icr
