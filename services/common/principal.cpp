#include "services/common/principal.h"

namespace icr {

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "clinician") return Role::kClinician;
  if (name == "social_worker") return Role::kSocialWorker;
  if (name == "s117_officer") return Role::kS117Officer;
  if (name == "performance_analyst") return Role::kPerformanceAnalyst;
  if (name == "system") return Role::kSystem;
  if (name == "admin") return Role::kAdmin;
  return std::nullopt;
}

std::string RoleName(Role role) {
  switch (role) {
    case Role::kClinician: return "clinician";
    case Role::kSocialWorker: return "social_worker";
    case Role::kS117Officer: return "s117_officer";
    case Role::kPerformanceAnalyst: return "performance_analyst";
    case Role::kSystem: return "system";
    case Role::kAdmin: return "admin";
  }
  return "unknown";
}

}  // namespace icr
