// icrctl: the command-line client of the integrated care record.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "clients/icrctl/commands.h"
#include "services/common/config.h"

int main(int argc, char** argv) {
  // The shared libraries log through spdlog; stdout is for results and stderr for one-line
  // errors, so their logging is off unless ICR_LOG_LEVEL asks for it (to stderr).
  spdlog::set_default_logger(spdlog::stderr_color_mt("icrctl"));
  spdlog::set_level(spdlog::level::from_str(icr::EnvOr("ICR_LOG_LEVEL", "off")));

  std::vector<icrctl::Command> commands;
  icrctl::AddDbCommands(commands);
  icrctl::AddAdminCommands(commands);
  icrctl::AddPersonCommands(commands);
  icrctl::AddEventsCommands(commands);
  icrctl::AddRecordCommands(commands);
  icrctl::AddAuditCommands(commands);
  icrctl::AddChangesCommands(commands);
  icrctl::AddDemoCommands(commands);
  icrctl::AddKpiCommands(commands);
  icrctl::AddCarePlanCommands(commands);
  icrctl::AddS117Commands(commands);
  icrctl::AddImportCommands(commands);
  icrctl::AddRefdataCommands(commands);
  icrctl::AddDatasetCommands(commands);
  icrctl::AddSuccessionCommands(commands);
  return icrctl::RunCli(argc, argv, commands);
}
