// The principals `demo seed` acts as: the caller's own token, and the tokens of a tokens file,
// one per organisation and role, so each organisation records what it would really record
// (architecture.md, Who may write). The file is written by whoever runs the stack
// (deploy/stack.sh: `icrctl demo principals` names them, `icrctl admin token create` issues
// them); the demo itself only talks gRPC.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "clients/icrctl/client.h"
#include "icr/v1/careplan.grpc.pb.h"
#include "icr/v1/s117.grpc.pb.h"
#include "services/common/principal.h"

namespace icrctl::demo {

// One principal: its client and the stubs of the care plan and S117 register services.
struct Actor {
  explicit Actor(const Globals& globals);
  Client client;
  std::unique_ptr<icr::v1::CarePlanService::Stub> plans;
  std::unique_ptr<icr::v1::S117RegisterService::Stub> register_;
};

// The organisations and roles the demo acts as: each trust (system) sends its people and events,
// each council (system) its Care Act and carer's assessment events, and the councils and ICBs
// (s117_officer) take the register and care plan steps only they may take.
std::vector<std::pair<std::string, icr::Role>> NeededPrincipals();

class Principals {
 public:
  // `tokens_file`: lines "ORG ROLE TOKEN" (role as `icrctl admin token create --role` takes it;
  // blank lines and lines starting with # are skipped). Empty: only the caller's own token.
  // Throws Failure when the file cannot be read or a line is malformed.
  Principals(const Globals& globals, const std::string& tokens_file);
  Principals(const Principals&) = delete;
  Principals& operator=(const Principals&) = delete;

  Actor& given() { return given_; }  // the caller's own token
  bool has_tokens() const { return !tokens_.empty(); }

  // The actor for `role` of `org`; nullptr when the tokens file has no token for them.
  Actor* For(const std::string& org, icr::Role role);
  // For(org, role), or the caller's own token when there is none.
  Actor& ForOrGiven(const std::string& org, icr::Role role);

 private:
  Globals globals_;
  Actor given_;
  std::map<std::pair<std::string, icr::Role>, std::string> tokens_;
  std::map<std::pair<std::string, icr::Role>, std::unique_ptr<Actor>> actors_;
};

}  // namespace icrctl::demo
