// Dates of the past (README "Dates of the past"): the day a real-world fact happened (a plan
// agreed, a sign-off, a review, a registration, a service start or end, an end decision) comes
// from the request and is kept apart from the time it was recorded, which stays the server's.
// Pure rules, no I/O.
#pragma once

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/principal.h"
#include "services/common/validation.h"

namespace icr {

// How far back a clinician or social worker may date a fact they record live: late recording is
// normal, older history comes over by import. A system, an s117_officer or an admin may carry
// history of any age over (still bounded by the facts it follows).
inline constexpr int kLiveBackdateDays = 92;

// The earliest date `role` may give a fact recorded on `today`; nullopt: no limit by role.
std::optional<Date> EarliestFactDate(Role role, Date today);

// A date of a real-world fact given in `field`: empty gives `today`; otherwise a real date, not
// after today and not before the role's limit, or INVALID_ARGUMENT naming the field.
absl::StatusOr<Date> FactDate(std::string_view value, std::string_view field, Role role,
                              Date today);
// The same check for a date already parsed.
absl::Status CheckFactDate(Date date, std::string_view field, Role role, Date today);

// A fact cannot come before one it follows (the person's birth, the plan's start, the
// detention): FAILED_PRECONDITION "field: before <what> (<date>)".
absl::Status CheckNotBefore(Date date, Date bound, std::string_view field, std::string_view what);

}  // namespace icr
