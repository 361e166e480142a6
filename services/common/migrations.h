// Schema migrations: db/migrations/NNNN_*.sql compiled into the binary, applied in order, each
// once, recorded in core.schema_migrations, under an advisory lock so instances cannot race.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace icr {

struct Migration {
  const char* name;
  const char* sql;
};

const std::vector<Migration>& EmbeddedMigrations();

// Applies the migrations not yet recorded; returns the names applied now.
absl::StatusOr<std::vector<std::string>> ApplyMigrations(const std::string& database_url);

}  // namespace icr
