#include "services/record/merge_rules.h"

#include "services/common/status.h"

namespace icr::record {

absl::Status CheckMergeable(const std::vector<OpenItem>& survivor,
                            const std::vector<OpenItem>& superseded) {
  std::string conflicts;
  for (const auto& a : survivor) {
    for (const auto& b : superseded) {
      if (a.kind != b.kind) continue;
      if (!conflicts.empty()) conflicts += "; ";
      conflicts += "both have an open " + a.kind + " (survivor " + a.id + ", superseded " + b.id +
                   ")";
    }
  }
  if (conflicts.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "superseded: the merged record would hold two of what a person has only one of open: " +
      conflicts + ". Resolve one (end, close or record it in error) before merging");
}

absl::Status RequireReason(const std::string& reason) {
  if (reason.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidField("reason", "required");
  }
  return absl::OkStatus();
}

}  // namespace icr::record
