#include "services/record/record_cache.h"

namespace icr::record {

RecordCache::RecordCache(size_t budget_bytes) : budget_(budget_bytes) {}

size_t RecordCache::Footprint(const Entry& e) {
  // The body, the strings and the map and list nodes (an estimate of the allocator's share).
  size_t n = e.body->size() + e.nhs_number.size() + e.version.size() + 160;
  for (const auto& [org, _] : e.visible) n += org.size() + 48;
  return n;
}

std::optional<RecordCache::Hit> RecordCache::Get(const std::string& nhs_number,
                                                 const std::string& org) {
  std::lock_guard lock(mu_);
  auto it = by_nhs_.find(nhs_number);
  if (it == by_nhs_.end()) return std::nullopt;
  entries_.splice(entries_.begin(), entries_, it->second);
  const Entry& e = *it->second;
  Hit hit{e.version, e.body, std::nullopt};
  for (const auto& [o, visible] : e.visible) {
    if (o == org) hit.visible = visible;
  }
  return hit;
}

void RecordCache::Put(const std::string& nhs_number, const std::string& version,
                      std::shared_ptr<const std::string> body, const std::string& org,
                      std::optional<bool> visible) {
  Entry e{nhs_number, version, std::move(body), {}, 0};
  if (visible) e.visible.emplace_back(org, *visible);
  e.bytes = Footprint(e);
  std::lock_guard lock(mu_);
  if (auto it = by_nhs_.find(nhs_number); it != by_nhs_.end()) {
    used_ -= it->second->bytes;
    entries_.erase(it->second);
    by_nhs_.erase(it);
  }
  if (e.bytes > budget_) return;
  while (used_ + e.bytes > budget_) {
    used_ -= entries_.back().bytes;
    by_nhs_.erase(entries_.back().nhs_number);
    entries_.pop_back();
  }
  used_ += e.bytes;
  entries_.push_front(std::move(e));
  by_nhs_[nhs_number] = entries_.begin();
}

void RecordCache::NoteVisible(const std::string& nhs_number, const std::string& version,
                              const std::string& org, bool visible) {
  std::lock_guard lock(mu_);
  auto it = by_nhs_.find(nhs_number);
  if (it == by_nhs_.end() || it->second->version != version) return;
  Entry& e = *it->second;
  for (const auto& [o, _] : e.visible) {
    if (o == org) return;
  }
  e.visible.emplace_back(org, visible);
  used_ -= e.bytes;
  e.bytes = Footprint(e);
  used_ += e.bytes;
}

size_t RecordCache::bytes() const {
  std::lock_guard lock(mu_);
  return used_;
}

size_t RecordCache::size() const {
  std::lock_guard lock(mu_);
  return by_nhs_.size();
}

}  // namespace icr::record
