// Percent-encoding for URLs (RFC 3986): one function for the dashboard's links and the FHIR
// API's links and identifier systems. Pure.
#pragma once

#include <string>
#include <string_view>

namespace icr {

// Every byte but the unreserved characters (letters, digits, - . _ ~) and those in `keep`
// becomes %XX.
std::string PercentEncode(std::string_view text, std::string_view keep = "");

}  // namespace icr
