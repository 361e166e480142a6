// Organisation successions applied in the store (issue 22 item 2; the rules are pure in
// succession.h). ApplySuccessions: every succession due by a date, in one transaction: a
// one-to-one succession moves open S117 entitlements (through the register's own history and
// change feed), open care plans (a new version acting for the successor), people's council or
// ICB (a new version of the person) and live API tokens to the successor, each move with its
// dated row in core.succession_move (what keeps past months' indicators under the old body) and
// every person moved audited; a split lists work items (core.succession_work) instead, which the
// bodies concerned resolve one at a time, each resolution moving its item the same way. Rerun,
// nothing moves: only what still names the old body is moved or listed.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "icr/v1/s117.pb.h"
#include "services/common/auth.h"
#include "services/common/db.h"
#include "services/s117/succession.h"

namespace icr::s117 {

// The singleton work of applying successions each day (core.singleton_lease).
inline constexpr char kSuccessionWork[] = "successions";

class Successions {
 public:
  // Applies every succession due by as_of in `tx`. caller: who asked (an admin's RPC), or
  // nullopt for icr-server's own run (each move is then made and audited as a system of the
  // successor body).
  static absl::StatusOr<icr::v1::ApplySuccessionsResponse> Apply(
      pqxx::work& tx, const std::optional<Caller>& caller, Date as_of);

  // A page of the work items the caller's organisation may see, each person audited.
  static absl::Status List(pqxx::work& tx, const Caller& caller,
                           const icr::v1::ListSuccessionWorkRequest& req, int limit,
                           icr::v1::ListSuccessionWorkResponse* resp);

  // Resolves one item (accepting its proposal or naming another successor) and applies its
  // move. `refused` (the transaction commits its audit row): NOT_FOUND alike for an item that
  // does not exist and one the caller may not see (access::WorksOnSuccession). Returned:
  // FAILED_PRECONDITION when it is resolved already, INVALID_ARGUMENT for a successor_code that
  // is not one of the split's.
  static absl::Status Resolve(pqxx::work& tx, const Caller& caller,
                              const icr::v1::ResolveSuccessionWorkRequest& req,
                              icr::v1::SuccessionWorkItem* resp, absl::Status& refused);
};

// icr-server's own run: Apply as of today in its own transaction now, then every `every`, while
// `may_run` answers true (Singletons::Gate(kSuccessionWork)); so a succession dated 1 April
// happens on 1 April without anyone calling it. Logs counts only.
class SuccessionRunner {
 public:
  SuccessionRunner(Database& db, std::chrono::seconds every, std::function<bool()> may_run);
  ~SuccessionRunner();  // stops the thread
  SuccessionRunner(const SuccessionRunner&) = delete;
  SuccessionRunner& operator=(const SuccessionRunner&) = delete;

  // One run now, as of `as_of` (the loop uses today).
  absl::StatusOr<icr::v1::ApplySuccessionsResponse> RunOnce(Date as_of);

 private:
  void Loop();

  Database& db_;
  const std::chrono::seconds every_;
  const std::function<bool()> may_run_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace icr::s117
