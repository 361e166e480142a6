#include "services/common/import_row.h"

namespace icr {
namespace {
constexpr char kDryRun[] = "dry run: rolled back";
}  // namespace

absl::Status DryRunRollback() { return absl::CancelledError(kDryRun); }

bool IsDryRunRollback(const absl::Status& status) {
  return absl::IsCancelled(status) && std::string(status.message()) == kDryRun;
}

icr::v1::ImportRowResult ImportRowResultOf(int32_t row, const absl::Status& status,
                                           bool duplicate, const std::string& id) {
  using Result = icr::v1::ImportRowResult;
  Result out;
  out.set_row(row);
  if (status.ok() || IsDryRunRollback(status)) {
    out.set_outcome(duplicate ? Result::DUPLICATE : status.ok() ? Result::STORED : Result::VALID);
    if (out.outcome() != Result::VALID) out.set_id(id);  // a dry run stored nothing
    return out;
  }
  out.set_outcome(Result::REFUSED);
  out.set_code(static_cast<int>(status.code()));  // absl and gRPC codes are the same numbers
  out.set_field(FieldOf(status));
  out.set_message(std::string(status.message()));
  out.set_id(id);
  return out;
}

std::string FieldOf(const absl::Status& status) {
  const std::string m(status.message());
  const auto colon = m.find(": ");
  return colon == std::string::npos ? "" : m.substr(0, colon);
}

absl::Status RenameField(const absl::Status& status, std::string_view from, std::string_view to) {
  const std::string m(status.message());
  if (status.ok() || m.compare(0, from.size(), from) != 0) return status;
  return absl::Status(status.code(), std::string(to) + m.substr(from.size()));
}

}  // namespace icr
