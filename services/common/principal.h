// Who is calling: an organisation and a role (architecture.md, Security), with the purpose of
// use and break-glass reason of one call. Pure data, no gRPC or SQL.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace icr {

enum class Role { kClinician, kSocialWorker, kS117Officer, kPerformanceAnalyst, kSystem, kAdmin };

std::optional<Role> ParseRole(std::string_view name);
std::string RoleName(Role role);

// Who is calling and why, from the token and the metadata of one call.
struct Caller {
  std::string org_code;
  Role role = Role::kSystem;
  std::string purpose_of_use;      // x-purpose-of-use
  std::string request_id;          // x-request-id
  std::string break_glass_reason;  // x-break-glass-reason; non-empty means break-glass
};

}  // namespace icr
