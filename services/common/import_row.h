// One row of an import (the S117 register, care plans): what the row's run returned, as the
// ImportRowResult a client reads, and the field-naming helpers the importers share. Pure.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "icr/v1/common.pb.h"

namespace icr {

// What a dry run's row returns once every step has passed, so that its transaction rolls back.
absl::Status DryRunRollback();
bool IsDryRunRollback(const absl::Status& status);

// The result of row `row`: STORED (or DUPLICATE) with the id for OK, VALID for a dry run's
// rollback (DUPLICATE when the row was already there), else REFUSED with the code, the field
// the message names and the message; `id` is kept on a refusal (a plan already imported under
// the same reference).
icr::v1::ImportRowResult ImportRowResultOf(int32_t row, const absl::Status& status,
                                           bool duplicate, const std::string& id);

// "field: reason" -> "field" ("" when the message names none).
std::string FieldOf(const absl::Status& status);
// The same status with the leading `from` of its message replaced by `to`, so a rule written
// for one request names the field of another ("review." in a row's "reviews[2]."; "" to
// prefix). Unchanged when OK or when the message does not start with `from`.
absl::Status RenameField(const absl::Status& status, std::string_view from, std::string_view to);

}  // namespace icr
