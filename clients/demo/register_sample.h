// The sample register `demo seed` writes (--register-csv): a handful of entitlements of one demo
// council, kept as a council's spreadsheet would keep them, for people the seeded population does
// not hold (the generator's people after the first `options.people`), so that
// `icrctl s117 import FILE --dry-run` has something real to check. Pure and deterministic: the
// same options give the same file, and tests/unit proves the import layout accepts every row.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "clients/demo/population.h"
#include "icr/v1/s117.pb.h"

namespace icrctl::demo {

inline constexpr int kSampleEntitlements = 6;

// The sample's rows: people after the seeded population who live in one council (the first such
// person's), one entitlement each, with a detention, a discharge, responsible bodies, a
// registration, reviews, service lines and, for one, a joint end.
absl::StatusOr<std::vector<icr::v1::RegisterImportRow>> SampleRegister(const Options& options);

// The rows as CSV text in the import layout: a header row and one line per row.
std::string SampleRegisterCsv(const std::vector<icr::v1::RegisterImportRow>& rows);

}  // namespace icrctl::demo
