// An MHSDS Intermediate Database (.mdb / .accdb) read with Debian's mdbtools: every user table
// as a Table, through mdb-tables and mdb-export (dates exported as YYYY-MM-DD HH:MM:SS). Not
// pure (a temporary file and two programs), so not in the rules library.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/datasets/dataset.h"

namespace icr::datasets {

// The tables of the Access file whose bytes are `data`. INVALID_ARGUMENT "data: ..." when
// mdbtools cannot read it; UNAVAILABLE when mdbtools is not installed.
absl::StatusOr<std::vector<Table>> ReadAccessFile(const std::string& data);

}  // namespace icr::datasets
