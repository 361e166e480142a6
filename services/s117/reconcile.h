// ReconcileRegister: the register against the record, for the caller's council or ICB (its
// register scope, access::RegisterScopeOf): qualifying discharges with no entitlement,
// entitlements with no qualifying detention known, two open entitlements for one person, and
// people charged for a need arising from the mental disorder while entitled. One statement per
// kind (services/s117/sql/reconcile_*.sql); findings carry NHS numbers, ids, dates, codes and
// amounts, never names. Every person reported is audited as one read ("ReconcileRegister"), in
// the same transaction, before anything is sent.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "icr/v1/s117.pb.h"
#include "services/common/access_rule.h"
#include "services/common/auth.h"
#include "services/common/db.h"

namespace icr::s117 {

inline constexpr char kDischargedWithoutEntitlement[] = "DISCHARGED_WITHOUT_ENTITLEMENT";
inline constexpr char kEntitlementWithoutDetention[] = "ENTITLEMENT_WITHOUT_DETENTION";
inline constexpr char kTwoOpenEntitlements[] = "TWO_OPEN_ENTITLEMENTS";
inline constexpr char kChargedWhileEntitled[] = "CHARGED_WHILE_ENTITLED";

// The findings, by kind in the order above, then NHS number. as_of: empty is today; a bad date is
// INVALID_ARGUMENT as_of. A caller whose organisation is not a council or an ICB has no register
// of its own: FAILED_PRECONDITION.
absl::StatusOr<std::vector<icr::v1::ReconciliationFinding>> Reconcile(
    Database& db, const Caller& caller, const access::RegisterScope& scope,
    const icr::v1::ReconcileRegisterRequest& req);

}  // namespace icr::s117
