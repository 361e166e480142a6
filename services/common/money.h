// Money as it is shown: exact pence, never through floating point. One place for every output
// (the dashboard, the indicator CSV and gRPC figures, icrctl).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace icr {

// "£16,252.31", "-£1,234.50", "£0.05": pounds and pence with thousands separators.
std::string FormatPounds(int64_t pence);

// "16252.31", "-1234.50": exactly two decimals and no separator, for machines (CSV, the value of
// an indicator figure).
std::string PlainPounds(int64_t pence);

// The pence of a plain amount of pounds ("16252.31", "-3", "12.5", "1234.567" is refused): none
// when the text is not one, or is beyond int64 pence.
std::optional<int64_t> ParsePounds(std::string_view text);

}  // namespace icr
