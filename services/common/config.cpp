#include "services/common/config.h"

#include <cstdlib>

namespace icr {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

}  // namespace icr
