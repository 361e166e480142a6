// The command groups of icrctl; each adds its commands to the table main() dispatches on.
#pragma once

#include <vector>

#include "clients/icrctl/cli.h"

namespace icrctl {

void AddDbCommands(std::vector<Command>& commands);       // db migrate
void AddAdminCommands(std::vector<Command>& commands);    // admin token create | list | revoke
void AddPersonCommands(std::vector<Command>& commands);   // person upsert | get | find
void AddEventsCommands(std::vector<Command>& commands);   // events record
void AddRecordCommands(std::vector<Command>& commands);   // record show
void AddAuditCommands(std::vector<Command>& commands);    // audit show
void AddChangesCommands(std::vector<Command>& commands);  // changes watch
void AddDemoCommands(std::vector<Command>& commands);     // demo seed
void AddKpiCommands(std::vector<Command>& commands);      // kpi compute | list | dashboard | series | export
void AddCarePlanCommands(std::vector<Command>& commands);  // careplan create | show | ... | list
void AddS117Commands(std::vector<Command>& commands);      // s117 list | show | export | ...
void AddImportCommands(std::vector<Command>& commands);    // s117 import | careplan import
void AddRefdataCommands(std::vector<Command>& commands);   // refdata load
void AddDatasetCommands(std::vector<Command>& commands);   // import mhsds | import cld
void AddSuccessionCommands(std::vector<Command>& commands);  // refdata apply-successions, work

// The --database-url flag (default env ICR_DATABASE_URL, never displayed: it may hold a password).
void AddDatabaseUrlOption(cxxopts::Options& options);
std::string DatabaseUrl(const Invocation& inv);

}  // namespace icrctl
