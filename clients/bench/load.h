// Closed-loop load generation and the figures a benchmark reports: N callers, each on its own
// channel, calling as fast as they can for a fixed time; throughput and latency percentiles.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace icr::bench {

struct LoadResult {
  int callers = 0;
  int64_t calls = 0;
  int64_t errors = 0;
  double seconds = 0;
  double qps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

// Runs call(caller_index, iteration) from `callers` threads for `duration`; a call returns
// false on error. Latencies of successful calls are measured around each call.
LoadResult RunLoad(int callers, std::chrono::milliseconds duration,
                   const std::function<bool(int, int64_t)>& call);

// Samples a process's resident set size (VmRSS) and keeps the peak since the last Take().
class RssSampler {
 public:
  explicit RssSampler(int pid);
  ~RssSampler();
  // Peak RSS in MB since the last call, then starts a new phase.
  double Take();

 private:
  static long ReadRssKb(int pid);
  int pid_;
  std::atomic<long> peak_kb_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace icr::bench
