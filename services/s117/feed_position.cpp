#include "services/s117/feed_position.h"

#include <algorithm>
#include <thread>

#include "services/common/changes.h"
#include "services/common/status.h"
#include "services/s117/sql/statements.h"

namespace icr::s117 {
namespace {

// How often the follower's cursor is read while waiting: the follower polls every 200 ms and
// applies changes a second old, so finer polling would gain nothing.
constexpr std::chrono::milliseconds kPoll(50);
// Time kept back from the call's deadline for the last read and the answer.
constexpr std::chrono::milliseconds kAnswerMargin(100);

}  // namespace

absl::Status CheckFeedPositionRequest(const icr::v1::GetFeedPositionRequest& req) {
  if (req.wait_ms() < 0 || req.wait_ms() > kMaxFeedWaitMs) {
    return InvalidField("wait_ms", "from 0 to 30000 (milliseconds)");
  }
  return DecodeCursor(req.cursor()).status();
}

absl::Status FeedPosition(Database& db, const icr::v1::GetFeedPositionRequest& req,
                          std::chrono::system_clock::time_point deadline,
                          const std::function<bool()>& cancelled, icr::v1::FeedPosition* resp) {
  RETURN_IF_ERROR(CheckFeedPositionRequest(req));
  const ChangeCursor wanted = *DecodeCursor(req.cursor());
  const auto now = std::chrono::system_clock::now();
  const auto until =
      std::min(now + std::chrono::milliseconds(req.wait_ms()), deadline - kAnswerMargin);
  for (;;) {
    RETURN_IF_ERROR(db.Read([&](pqxx::nontransaction& tx) -> absl::Status {
      auto r = Exec(tx, sql::kFeedPosition, wanted.txid, wanted.seq);
      if (r.empty()) return absl::FailedPreconditionError("s117.feed_cursor has no row for 's117'");
      resp->set_applied_cursor(EncodeCursor({r[0][0].c_str(), r[0][1].as<int64_t>()}));
      resp->set_applied(req.cursor().empty() || r[0][2].as<bool>());
      return absl::OkStatus();
    }));
    if (resp->applied() || cancelled()) return absl::OkStatus();
    const auto left = until - std::chrono::system_clock::now();
    if (left <= std::chrono::milliseconds(0)) return absl::OkStatus();
    std::this_thread::sleep_for(std::min<std::chrono::system_clock::duration>(left, kPoll));
  }
}

}  // namespace icr::s117
