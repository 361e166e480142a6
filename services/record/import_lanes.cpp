#include "services/record/import_lanes.h"

#include <exception>

namespace icr::record {

ImportLanes::ImportLanes(int lanes, size_t batch_size, Store store)
    : batch_size_(batch_size), store_(std::move(store)), lanes_(lanes) {
  for (auto& lane : lanes_) lane.thread = std::thread([this, &lane] { Run(lane); });
}

ImportLanes::~ImportLanes() { Stop(); }

void ImportLanes::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& lane : lanes_) lane.closed = true;
  }
  cv_.notify_all();
  for (auto& lane : lanes_) {
    if (lane.thread.joinable()) lane.thread.join();
  }
}

void ImportLanes::Run(Lane& lane) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return !lane.queued.empty() || lane.closed; });
    if (lane.queued.empty()) return;  // closed, and nothing left
    Batch batch = std::move(lane.queued.front());
    lane.queued.pop_front();
    cv_.notify_all();  // room for the next batch
    if (!failure_.ok()) continue;  // another lane failed: store nothing more
    lock.unlock();
    absl::Status s;
    try {  // nothing may escape a thread
      s = store_(batch);
    } catch (const std::exception& e) {
      s = absl::InternalError(std::string("import batch: ") + e.what());
    }
    lock.lock();
    if (!s.ok() && failure_.ok()) failure_ = s;
  }
}

void ImportLanes::Hand(Lane& lane) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return lane.queued.empty() || !failure_.ok(); });
  lane.queued.push_back(std::move(lane.filling));
  lane.filling.clear();
  cv_.notify_all();
}

absl::Status ImportLanes::Failure() {
  std::lock_guard<std::mutex> lock(mu_);
  return failure_;
}

size_t ImportLanes::LaneOf(const std::string& key, size_t lanes) {
  return std::hash<std::string>{}(key) % lanes;
}

absl::Status ImportLanes::Add(const std::string& key, Item item) {
  Lane& lane = lanes_[LaneOf(key, lanes_.size())];
  lane.filling.push_back(std::move(item));
  if (lane.filling.size() >= batch_size_) Hand(lane);
  return Failure();
}

absl::Status ImportLanes::Finish() {
  for (auto& lane : lanes_) {
    if (!lane.filling.empty()) Hand(lane);
  }
  Stop();
  return Failure();
}

}  // namespace icr::record
