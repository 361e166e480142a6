// A named SQL statement: one file services/<service>/sql/<name>.sql, embedded at build time into
// the generated header "services/<service>/sql/statements.h" as k<Name> (db/embed_sql.cmake).
// Run it with Exec (db.h), which prepares it on a connection the first time it is used there.
#pragma once

namespace icr {

struct Statement {
  const char* name;  // the prepared statement's name: "<service>.<file name>"
  const char* sql;
};

}  // namespace icr
