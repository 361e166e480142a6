// Organisation successions applied (issue 22 item 2), the pure rules: which successions are due
// by a date, whether one is one-to-one or a split, what an entitlement's move changes, the
// proposal for a split's work item from the person's postcode district, and the check of a
// resolution. No I/O: services/s117/successions.h applies them in the store.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/common/validation.h"
#include "services/s117/entitlement.h"

namespace icr::s117 {

// One succession link as stored (core.organisation_successor).
struct SuccessionLink {
  std::string predecessor;
  std::string successor;
  Date on;
};

// A predecessor's succession on one date: one successor (one-to-one) or several (a split).
struct Succession {
  std::string predecessor;
  Date on;
  std::vector<std::string> successors;  // sorted
  bool split() const { return successors.size() > 1; }
  std::string kind() const { return split() ? "split" : "one_to_one"; }
};

// The successions effective on or before as_of, oldest first (then by predecessor), so a chain
// (A -> B in 2026, B -> C in 2027) is applied in order in one run.
std::vector<Succession> DueSuccessions(const std::vector<SuccessionLink>& links, Date as_of);

// The role an organisation of `kind` plays in what moves: "council" or "icb"; "" for any other
// kind (a trust, a district: nothing of theirs moves but tokens).
std::string RoleOfKind(const std::string& kind);

// Moves an entitlement's responsible body in `role` from `from` to `to`, when it is open and
// names `from` there; returns whether it changed. An ended or void entitlement keeps the body
// that was responsible while it ran.
bool MoveEntitlement(Episode& e, const std::string& role, const std::string& from,
                     const std::string& to);

// A postcode's district (outward code), upper case: "kt10 9aa" and "KT109AA" -> "KT10"; ""
// when it is not a postcode.
std::string PostcodeDistrict(const std::string& postcode);

// The proposal for a split's work item: the successor the area table gives the person's
// postcode district, when it is one of the split's successors; otherwise none ("decide") and why.
struct Proposal {
  std::string code;   // "" = decide
  std::string basis;  // "postcode district KT10" | "decide: ..."
};
Proposal ProposeSuccessor(const Succession& s, const std::string& postcode_district,
                          const std::map<std::string, std::string>& area_successor);

// The successor a resolution names: `chosen`, or the proposal when `chosen` is empty. It must be
// one of the split's successors (INVALID_ARGUMENT naming successor_code and listing them).
absl::StatusOr<std::string> ResolvedSuccessor(const std::vector<std::string>& successors,
                                              const std::string& proposed,
                                              const std::string& chosen);

}  // namespace icr::s117
