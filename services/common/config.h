// Configuration shared by the binaries: each flag can also come from an ICR_* environment
// variable (a flag given on the command line wins), and process-wide settings made at start.
#pragma once

#include <string>

namespace icr {

// The value of environment variable `name`, or `fallback` when it is unset or empty.
std::string EnvOr(const char* name, const std::string& fallback);

// Turns off Abseil's mutex deadlock detection for the process; call first thing in main. Debian's
// Abseil checks every absl::Mutex acquisition (gRPC's included) against a global lock-order
// graph, as a debug build does; that check is for development, not for serving.
void DisableMutexDeadlockDetection();

}  // namespace icr
