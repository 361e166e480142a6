// Pure validators for identifiers, codes and dates (domain-rules.md section 8). No I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace icr {

// True for a 10-digit string whose Modulus 11 check digit is valid (NHS Data Dictionary).
bool NhsNumberChecksumOk(std::string_view s);

// Accepts "9434765919" or the display form "943 476 5919"; returns the 10 digits, or an
// INVALID_ARGUMENT naming `field`. Numbers outside issued and test ranges are refused too.
absl::StatusOr<std::string> NormaliseNhsNumber(std::string_view input, std::string_view field);

// A calendar date as days since 1970-01-01.
using Date = std::chrono::sys_days;

std::optional<Date> ParseDate(std::string_view iso);  // strict YYYY-MM-DD, real calendar date
std::string FormatDate(Date d);
Date Today();

// Parses a required date field, or INVALID_ARGUMENT naming it.
absl::StatusOr<Date> RequireDate(std::string_view value, std::string_view field);
// Parses an optional date field: empty gives nullopt.
absl::StatusOr<std::optional<Date>> OptionalDate(std::string_view value, std::string_view field);

bool IsOdsCodeSyntax(std::string_view code);   // 3 to 6 upper-case letters and digits
bool IsGssCodeSyntax(std::string_view code);   // ^[ENSW][0-9]{8}$
// GSS prefixes of social services authorities: E06, E08, E09, E10, W06 (domain-rules 8.3).
bool IsSocialServicesAuthority(std::string_view gss);

// A bounded free-text field: not longer than max_len and free of control characters.
absl::Status CheckText(std::string_view value, std::string_view field, size_t max_len,
                       bool required);

}  // namespace icr
