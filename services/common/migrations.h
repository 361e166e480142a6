// The schema: db/migrations/NNNN_*.sql (tables, indexes, data) applied in order, each once,
// recorded in core.schema_migrations; then db/functions/<schema>/<name>.sql (CREATE OR REPLACE,
// the live text of every SQL function) applied whenever a file's text differs from the text last
// applied, recorded in core.schema_functions. Both are compiled into the binary and run under an
// advisory lock so instances cannot race.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace icr {

struct Migration {
  const char* name;  // file name; for a function definition "schema/name.sql"
  const char* sql;
};

const std::vector<Migration>& EmbeddedMigrations();
const std::vector<Migration>& EmbeddedFunctions();

// Applies the migrations not yet recorded, then the function definitions whose text changed;
// returns the names applied now.
absl::StatusOr<std::vector<std::string>> ApplyMigrations(const std::string& database_url);

}  // namespace icr
