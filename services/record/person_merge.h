// Merge, unmerge and change of NHS number (RecordService.MergePeople, Unmerge, ChangeNhsNumber),
// and the resolution of NHS numbers that are no longer a person's own (aliases). Each call is one
// transaction with an audit row per record moved and its change-feed entries; the rows move by
// core.move_person_rows and come back by core.restore_person_rows (db/functions/core), logged in
// core.person_merge_row so an unmerge is exact.
#pragma once

#include <map>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "icr/v1/record.pb.h"
#include "services/common/auth.h"
#include "services/common/db.h"

namespace icr::record {

class PersonMerge {
 public:
  static absl::Status Merge(Database& db, const Caller& caller,
                            const icr::v1::MergePeopleRequest& req,
                            icr::v1::MergePeopleResponse* resp);
  static absl::Status Unmerge(Database& db, const Caller& caller,
                              const icr::v1::UnmergeRequest& req, icr::v1::UnmergeResponse* resp);
  static absl::Status ChangeNhsNumber(Database& db, const Caller& caller,
                                      const icr::v1::ChangeNhsNumberRequest& req,
                                      icr::v1::Person* resp);

  // The current NHS number of each alias among `nhs_numbers` (no entry: not an alias).
  static std::map<std::string, std::string> ResolveAliases(
      pqxx::transaction_base& tx, const std::vector<std::string>& nhs_numbers);
  // The same for one number, in a transaction of its own.
  static absl::StatusOr<std::optional<std::string>> ResolveAlias(Database& db,
                                                                 const std::string& nhs_number);
};

}  // namespace icr::record
