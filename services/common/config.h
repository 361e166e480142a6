// Configuration shared by the binaries: each flag can also come from an ICR_* environment
// variable; a flag given on the command line wins.
#pragma once

#include <string>

namespace icr {

// The value of environment variable `name`, or `fallback` when it is unset or empty.
std::string EnvOr(const char* name, const std::string& fallback);

}  // namespace icr
