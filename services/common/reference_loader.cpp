#include "services/common/reference_loader.h"

#include "services/common/sql/statements.h"

namespace icr {

absl::StatusOr<std::shared_ptr<const ReferenceData>> LoadReferenceData(Database& db) {
  auto ref = std::make_shared<ReferenceData>();
  absl::Status s = db.Read([&](pqxx::nontransaction& tx) {
    for (const auto& r : Exec(tx, common::sql::kReferenceOrganisations)) {
      ref->AddOrganisation({r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].c_str(),
                            ParseDate(r[4].c_str()), ParseDate(r[5].c_str())});
    }
    for (const auto& r : Exec(tx, common::sql::kReferenceSuccessors)) {
      ref->AddSuccessor(r[0].c_str(), {r[1].c_str(), *ParseDate(r[2].c_str())});
    }
    for (const auto& r : Exec(tx, common::sql::kReferenceCodes)) {
      ref->AddCode(r[0].c_str(), r[1].c_str(), {r[2].c_str(), r[3].c_str()});
    }
    for (const auto& r : Exec(tx, common::sql::kReferenceLegalStatuses)) {
      ref->AddLegalStatus({r[0].c_str(), r[1].c_str(), r[2].c_str(), r[3].as<bool>()});
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return std::shared_ptr<const ReferenceData>(ref);
}

}  // namespace icr
