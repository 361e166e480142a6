// GetFeedPosition: whether the S117 feed follower (feed_follower.h) has applied a change-feed
// cursor a write returned (RecordEventsResponse.change_cursor), waiting for it up to wait_ms.
// The follower's cursor (s117.feed_cursor) is read, a cheap one-row read, every kPoll; no
// connection is held while waiting, and the wait never runs past the call's deadline.
#pragma once

#include <chrono>
#include <functional>

#include "absl/status/status.h"
#include "icr/v1/s117.pb.h"
#include "services/common/db.h"

namespace icr::s117 {

inline constexpr int kMaxFeedWaitMs = 30000;

// INVALID_ARGUMENT naming wait_ms (outside 0..30000) or cursor (not one the feed gave).
absl::Status CheckFeedPositionRequest(const icr::v1::GetFeedPositionRequest& req);

// Answers at once when the cursor is applied (or empty, or wait_ms is 0); otherwise polls until
// it is, wait_ms has passed, the call's `deadline` is near or `cancelled` says so, and answers
// applied = false then (not an error).
absl::Status FeedPosition(Database& db, const icr::v1::GetFeedPositionRequest& req,
                          std::chrono::system_clock::time_point deadline,
                          const std::function<bool()>& cancelled, icr::v1::FeedPosition* resp);

}  // namespace icr::s117
