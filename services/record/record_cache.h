// Integrated-record bodies kept in icr-server's memory (GetIntegratedRecord), by NHS number.
// An entry is a serialised icr.v1.IntegratedRecord, the record version it was built at
// (migration 0013) and the organisations known, at that version, to see the person or not.
// The cache decides nothing by itself: every read checks the entry's version against the
// store's in the statement that writes the read's audit row (RecordStore::LookupRecords), and
// an entry is used only while it is current. When the bodies pass the budget, the least
// recently used entries go.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace icr::record {

class RecordCache {
 public:
  // budget_bytes 0 keeps nothing.
  explicit RecordCache(size_t budget_bytes);

  struct Hit {
    std::string version;
    std::shared_ptr<const std::string> body;
    std::optional<bool> visible;  // org's answer at version, when known
  };
  std::optional<Hit> Get(const std::string& nhs_number, const std::string& org);

  // Keeps body at version (with org's answer at that version, if known), replacing the
  // person's entry.
  void Put(const std::string& nhs_number, const std::string& version,
           std::shared_ptr<const std::string> body, const std::string& org,
           std::optional<bool> visible);
  // Adds org's answer to the person's entry, if the entry is still at version.
  void NoteVisible(const std::string& nhs_number, const std::string& version,
                   const std::string& org, bool visible);

  size_t bytes() const;
  size_t size() const;

 private:
  struct Entry {
    std::string nhs_number;
    std::string version;
    std::shared_ptr<const std::string> body;
    std::vector<std::pair<std::string, bool>> visible;  // by organisation
    size_t bytes = 0;
  };
  static size_t Footprint(const Entry& e);

  mutable std::mutex mu_;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> by_nhs_;
  size_t budget_;
  size_t used_ = 0;
};

}  // namespace icr::record
