#include "clients/demo/principals.h"

#include <fstream>
#include <set>
#include <sstream>

#include "clients/demo/population.h"

namespace icrctl::demo {

Actor::Actor(const Globals& globals)
    : client(globals),
      plans(icr::v1::CarePlanService::NewStub(client.channel())),
      register_(icr::v1::S117RegisterService::NewStub(client.channel())) {}

std::vector<std::pair<std::string, icr::Role>> NeededPrincipals() {
  std::vector<std::pair<std::string, icr::Role>> out;
  std::set<std::pair<std::string, icr::Role>> seen;
  auto add = [&](const std::string& org, icr::Role role) {
    if (seen.insert({org, role}).second) out.emplace_back(org, role);
  };
  for (const auto& p : AllPlacements()) {
    add(p.trust, icr::Role::kSystem);
    add(p.council, icr::Role::kSystem);
    add(p.council, icr::Role::kS117Officer);
    add(p.icb, icr::Role::kS117Officer);
  }
  return out;
}

Principals::Principals(const Globals& globals, const std::string& tokens_file)
    : globals_(globals), given_(globals) {
  if (tokens_file.empty()) return;
  std::ifstream in(tokens_file);
  if (!in) throw Failure("demo: cannot read the tokens file " + tokens_file);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream words(line);
    std::string org, role_name, token, extra;
    if (!(words >> org) || org[0] == '#') continue;
    const auto role = words >> role_name ? icr::ParseRole(role_name) : std::nullopt;
    if (!role || !(words >> token) || (words >> extra)) {
      throw Failure("demo: " + tokens_file + ":" + std::to_string(n) + ": expected ORG ROLE TOKEN");
    }
    tokens_[{org, *role}] = token;
  }
}

Actor* Principals::For(const std::string& org, icr::Role role) {
  const auto key = std::make_pair(org, role);
  if (auto it = actors_.find(key); it != actors_.end()) return it->second.get();
  auto token = tokens_.find(key);
  if (token == tokens_.end()) return nullptr;
  Globals g = globals_;
  g.token = token->second;
  g.break_glass.clear();
  return actors_.emplace(key, std::make_unique<Actor>(g)).first->second.get();
}

Actor& Principals::ForOrGiven(const std::string& org, icr::Role role) {
  Actor* actor = For(org, role);
  return actor ? *actor : given_;
}

}  // namespace icrctl::demo
