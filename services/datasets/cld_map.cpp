// PLACEHOLDER (see cld_map.h): replaced by branch i21-cld at merge.
#include "services/datasets/cld_map.h"

namespace icr::datasets {

absl::StatusOr<Mapped> MapCld(const Table&, const std::string&) {
  return absl::UnimplementedError("CLD import: the mapper is not in this build");
}

}  // namespace icr::datasets
