// Pure validators for identifiers, codes and dates (domain-rules.md section 8). No I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace google::protobuf {
class Message;
}

namespace icr {

// True for a 10-digit string whose Modulus 11 check digit is valid (NHS Data Dictionary).
bool NhsNumberChecksumOk(std::string_view s);

// Accepts "9434765919" or the display form "943 476 5919"; returns the 10 digits, or an
// INVALID_ARGUMENT naming `field`. Numbers outside issued and test ranges are refused too.
absl::StatusOr<std::string> NormaliseNhsNumber(std::string_view input, std::string_view field);

// True for the canonical text of a UUID (8-4-4-4-12 hexadecimal digits).
bool IsUuid(std::string_view s);
// An id the service gave (a UUID): INVALID_ARGUMENT naming `field` when empty ("required") or
// malformed ("not <what>", e.g. "not a care plan id").
absl::Status CheckUuid(std::string_view value, std::string_view field, std::string_view what);

// A calendar date as days since 1970-01-01.
using Date = std::chrono::sys_days;

std::optional<Date> ParseDate(std::string_view iso);  // strict YYYY-MM-DD, real calendar date
std::string FormatDate(Date d);
Date Today();

// The latest year a date in a request may have: a later one is a typing error (stored dates are
// read whatever they are).
inline constexpr int kLastYear = 2100;

// Parses a required date field (no later than kLastYear), or INVALID_ARGUMENT naming it.
absl::StatusOr<Date> RequireDate(std::string_view value, std::string_view field);
// Parses an optional date field: empty gives nullopt.
absl::StatusOr<std::optional<Date>> OptionalDate(std::string_view value, std::string_view field);

bool IsOdsCodeSyntax(std::string_view code);   // 3 to 6 upper-case letters and digits
bool IsGssCodeSyntax(std::string_view code);   // ^[ENSW][0-9]{8}$
// GSS prefixes of social services authorities: E06, E08, E09, E10, W06 (domain-rules 8.3).
bool IsSocialServicesAuthority(std::string_view gss);

// The most an amount of money may be a week: £1,000,000. More is a typing error, and with this
// bound no sum of stored amounts comes near the range of a 64-bit integer.
inline constexpr int64_t kMaxWeeklyPence = 100'000'000;
// An amount of pence from 0 to max_pence, or INVALID_ARGUMENT naming the field.
absl::Status CheckPence(int64_t pence, std::string_view field, int64_t max_pence = kMaxWeeklyPence);

// Versions are stored as integer (int4) columns: a larger expected_version names no version.
inline constexpr int64_t kMaxVersion = 2147483647;
// A version a request names, from 0 to kMaxVersion, or INVALID_ARGUMENT naming the field.
absl::Status CheckVersion(int64_t version, std::string_view field);

// Every enum field set anywhere in the message holds a value its enum defines (proto3 enums
// are open: any number arrives), or INVALID_ARGUMENT naming the first that does not, its path
// below `path` ("events[2].care_act.kind").
absl::Status CheckEnums(const google::protobuf::Message& message, const std::string& path);

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool IsUtf8(std::string_view s);

// A bounded free-text field: not longer than max_len and free of control characters.
absl::Status CheckText(std::string_view value, std::string_view field, size_t max_len,
                       bool required);

}  // namespace icr
