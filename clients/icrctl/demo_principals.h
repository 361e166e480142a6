// The principals `demo seed` acts as: the caller's own token, and, when a database URL is given,
// tokens issued for this run straight into the database (one per organisation and role), so
// each organisation records what it would really record (architecture.md, Who may write). The
// issued tokens are revoked when the Principals end.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "clients/icrctl/client.h"
#include "icr/v1/careplan.grpc.pb.h"
#include "icr/v1/s117.grpc.pb.h"
#include "services/common/db.h"
#include "services/common/principal.h"

namespace icrctl::demo {

// One principal: its client and the stubs of the care plan and S117 register services.
struct Actor {
  explicit Actor(const Globals& globals);
  Client client;
  std::unique_ptr<icr::v1::CarePlanService::Stub> plans;
  std::unique_ptr<icr::v1::S117RegisterService::Stub> register_;
};

class Principals {
 public:
  // Without `database_url` (empty) only the caller's own token is used.
  Principals(const Globals& globals, const std::string& database_url);
  ~Principals();  // revokes the tokens issued
  Principals(const Principals&) = delete;
  Principals& operator=(const Principals&) = delete;

  Actor& given() { return given_; }  // the caller's own token
  bool issues() const { return db_ != nullptr; }

  // `role` of `org`, issued on first use; nullptr without a database URL or an org.
  Actor* For(const std::string& org, icr::Role role);
  // For(org, role), or the caller's own token without a database URL.
  Actor& ForOrGiven(const std::string& org, icr::Role role);

 private:
  Globals globals_;
  Actor given_;
  std::unique_ptr<icr::Database> db_;
  std::map<std::pair<std::string, icr::Role>, std::unique_ptr<Actor>> actors_;
  std::vector<std::string> tokens_;
};

}  // namespace icrctl::demo
