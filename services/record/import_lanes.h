// ImportEvents' batches, stored in parallel: items go to one of a few lanes by a key (the
// person's NHS number), and each lane stores its full batches on its own thread, one transaction
// each, while the stream is still being read. One person's items stay in one lane, in order;
// the lanes' database work runs on separate connections.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "icr/v1/record.pb.h"

namespace icr::record {

class ImportLanes {
 public:
  struct Item {
    int64_t index;  // in the stream
    icr::v1::ImportItem item;
  };
  using Batch = std::vector<Item>;
  // Stores one batch; called from the lanes' threads, concurrently for different lanes.
  using Store = std::function<absl::Status(Batch&)>;

  // The lanes ImportEvents stores in: connections storing an import's batches at once.
  static constexpr int kImportEventsLanes = 2;
  // The lane of `key` among `lanes`: a key always goes to the same lane.
  static size_t LaneOf(const std::string& key, size_t lanes);

  ImportLanes(int lanes, size_t batch_size, Store store);
  ~ImportLanes();  // stops and joins the lanes (Finish first to store what is left)
  ImportLanes(const ImportLanes&) = delete;
  ImportLanes& operator=(const ImportLanes&) = delete;

  // Adds an item to the lane of `key`, handing the lane its batch when full (waiting while the
  // lane still has a batch queued). Returns the first failure of any lane: stop sending then.
  absl::Status Add(const std::string& key, Item item);
  // Stores the items left, waits for every lane, and returns the first failure.
  absl::Status Finish();

 private:
  struct Lane {
    Batch filling;             // items not yet handed to the lane's thread
    std::deque<Batch> queued;  // at most one waiting while another is stored
    bool closed = false;
    std::thread thread;
  };
  void Run(Lane& lane);
  void Hand(Lane& lane);
  absl::Status Failure();
  void Stop();

  const size_t batch_size_;
  const Store store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Lane> lanes_;
  absl::Status failure_;  // the first failure of any lane
};

}  // namespace icr::record
