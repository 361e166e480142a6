#include "clients/bench/load.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace icr::bench {

LoadResult RunLoad(int callers, std::chrono::milliseconds duration,
                   const std::function<bool(int, int64_t)>& call) {
  std::vector<std::vector<double>> latencies(callers);
  std::vector<int64_t> errors(callers, 0);
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + duration;
  std::vector<std::thread> threads;
  for (int c = 0; c < callers; ++c) {
    threads.emplace_back([&, c] {
      latencies[c].reserve(1 << 16);
      for (int64_t i = 0;; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        if (t0 >= end) break;
        const bool ok = call(c, i);
        const auto t1 = std::chrono::steady_clock::now();
        if (ok) {
          latencies[c].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        } else {
          ++errors[c];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  LoadResult r;
  r.callers = callers;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (int c = 0; c < callers; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    r.errors += errors[c];
  }
  r.calls = static_cast<int64_t>(all.size());
  r.qps = r.calls / r.seconds;
  if (!all.empty()) {
    std::sort(all.begin(), all.end());
    r.p50_ms = all[all.size() / 2];
    r.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return r;
}

RssSampler::RssSampler(int pid) : pid_(pid) {
  if (pid_ <= 0) return;
  thread_ = std::thread([this] {
    while (!stop_) {
      const long kb = ReadRssKb(pid_);
      long prev = peak_kb_.load();
      while (kb > prev && !peak_kb_.compare_exchange_weak(prev, kb)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

RssSampler::~RssSampler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

double RssSampler::Take() {
  const long kb = peak_kb_.exchange(pid_ > 0 ? ReadRssKb(pid_) : 0);
  return kb / 1024.0;
}

long RssSampler::ReadRssKb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream ss(line.substr(6));
      long kb = 0;
      ss >> kb;
      return kb;
    }
  }
  return 0;
}

}  // namespace icr::bench
