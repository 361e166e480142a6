// The rules of a merge of two people's records, pure (no gRPC, no SQL): what each person has
// open that a person may have open only once, and whether a merge may go ahead.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace icr::record {

// Something a person may have open only once: an open S117 entitlement (kind
// "s117_entitlement") or an open care plan of one type (kind "care_plan:<type>").
struct OpenItem {
  std::string kind;
  std::string id;
};

// FAILED_PRECONDITION naming every kind both people have open (with both ids), since the merged
// record would hold two: one must be resolved (ended, closed, or recorded in error) first.
absl::Status CheckMergeable(const std::vector<OpenItem>& survivor,
                            const std::vector<OpenItem>& superseded);

// A merge or change of number needs a reason, recorded with it.
absl::Status RequireReason(const std::string& reason);

}  // namespace icr::record
