#include "clients/icrctl/demo_principals.h"

#include "services/common/auth.h"

namespace icrctl::demo {

Actor::Actor(const Globals& globals)
    : client(globals),
      plans(icr::v1::CarePlanService::NewStub(client.channel())),
      register_(icr::v1::S117RegisterService::NewStub(client.channel())) {}

Principals::Principals(const Globals& globals, const std::string& database_url)
    : globals_(globals), given_(globals) {
  if (!database_url.empty()) db_ = std::make_unique<icr::Database>(database_url, 1);
}

Principals::~Principals() {
  if (db_ && !tokens_.empty()) (void)icr::Authenticator::RevokeTokens(*db_, tokens_);
}

Actor* Principals::For(const std::string& org, icr::Role role) {
  if (!db_ || org.empty()) return nullptr;
  auto key = std::make_pair(org, role);
  auto it = actors_.find(key);
  if (it != actors_.end()) return it->second.get();
  auto token = icr::Authenticator::CreateToken(*db_, org, role, "demo seed (revoked when it ends)");
  Check(token.status());
  tokens_.push_back(*token);
  Globals g = globals_;
  g.token = *token;
  g.break_glass.clear();
  return actors_.emplace(key, std::make_unique<Actor>(g)).first->second.get();
}

Actor& Principals::ForOrGiven(const std::string& org, icr::Role role) {
  Actor* actor = For(org, role);
  return actor ? *actor : given_;
}

}  // namespace icrctl::demo
