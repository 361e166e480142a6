// Which council is responsible for a person's S117 after-care (domain-rules 2.4), derived from
// where they lived (core.residence) and who placed them where (s117.placement) immediately before
// the first qualifying detention, by the rule in force on the detention's start date:
//   - OR_WORCESTERSHIRE_2023: the council of ordinary residence immediately before detention,
//     with no deeming (R (Worcestershire CC) v SSHSC [2023] UKSC 31): a person placed out of
//     area is the responsibility of the area they were placed in.
//   - MHA2025_S117_3A: the Mental Health Act 2025 s46 (s117(3A)) applies the Care Act s39
//     deeming rules to people aged 18 or over: a person placed by a council in specified
//     accommodation stays that council's responsibility. From its commencement date only
//     (s117.policy mha2025_s46_from; none = not in force).
// Pure: no SQL, no gRPC.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "services/common/validation.h"

namespace icr::s117 {

// One period at one address (dates inclusive; from unknown = since before anything was recorded,
// to none = current).
struct ResidencePeriod {
  std::string postcode;
  std::string council_code;
  std::string icb_code;
  std::optional<Date> from;
  std::optional<Date> to;
};

// Accommodation a council arranged (dates inclusive; end none = open).
struct PlacementFacts {
  std::string placing_council_code;
  std::string placed_in_council_code;
  std::string accommodation_type;  // CARE_HOME | SHARED_LIVES | SUPPORTED_LIVING | OTHER
  std::string legal_basis;         // care_act | s117 | other
  Date start;
  std::optional<Date> end;
};

inline constexpr char kRuleWorcestershire[] = "OR_WORCESTERSHIRE_2023";
inline constexpr char kRuleMha2025[] = "MHA2025_S117_3A";

// The rule for a detention starting on `detention_start`: the 2025 Act's from its commencement
// (`mha2025_s46_from`, none = not in force), today's before it.
std::string CouncilRuleFor(Date detention_start, const std::optional<Date>& mha2025_s46_from);

struct CouncilDerivation {
  std::string council_code;  // empty: none known, a person must decide
  std::string rule;          // kRuleWorcestershire or kRuleMha2025
  std::string reason;        // why, for people: "resident in X from D1 to D2; placed by Y ..."
};

// The council for a qualifying detention starting on `detention_start` (the first of an unbroken
// period of detention). "Immediately before" is the day before it: a residence that begins on
// the detention day itself (an address changed on admission) is not the one before detention.
// date_of_birth: for the 2025 rule's age test (unknown: treated as an adult).
CouncilDerivation DeriveResponsibleCouncil(Date detention_start,
                                           const std::vector<ResidencePeriod>& residences,
                                           const std::vector<PlacementFacts>& placements,
                                           const std::optional<Date>& date_of_birth,
                                           const std::optional<Date>& mha2025_s46_from);

}  // namespace icr::s117
