#include "services/datasets/access_file.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "services/datasets/dataset_csv.h"

extern char** environ;

namespace icr::datasets {
namespace {

// Runs argv (no shell) and returns its standard output; nullopt when it cannot run or fails.
std::optional<std::string> Capture(const std::vector<std::string>& argv, bool* missing) {
  int out[2];
  if (pipe(out) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (spawned != 0) {
    close(out[0]);
    *missing = spawned == ENOENT;
    return std::nullopt;
  }
  std::string text;
  char buf[65536];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;)
    text.append(buf, static_cast<size_t>(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return text;
}

}  // namespace

absl::StatusOr<std::vector<Table>> ReadAccessFile(const std::string& data) {
  char path[] = "/tmp/icr-idb-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return absl::UnavailableError("data: no temporary file for the Access file");
  close(fd);
  struct Remove {
    const char* p;
    ~Remove() { std::remove(p); }
  } remove{path};
  {
    std::ofstream f(path, std::ios::binary);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!f) return absl::UnavailableError("data: the Access file could not be written");
  }
  bool missing = false;
  auto names = Capture({"mdb-tables", "-1", path}, &missing);
  if (!names) {
    if (missing) return absl::UnavailableError("mdbtools (mdb-tables) is not installed");
    return absl::InvalidArgumentError("data: not an Access file mdbtools can read");
  }
  std::vector<Table> tables;
  std::istringstream lines(*names);
  for (std::string name; std::getline(lines, name);) {
    if (name.empty()) continue;
    auto csv =
        Capture({"mdb-export", "-D", "%Y-%m-%d", "-T", "%Y-%m-%d %H:%M:%S", path, name}, &missing);
    if (!csv) return absl::InvalidArgumentError("data: table " + name + " cannot be read");
    auto table = TableFromCsv(name, *csv);
    if (!table.ok()) return table.status();
    table->name = name;  // as in the file, dots included
    tables.push_back(std::move(*table));
  }
  return tables;
}

}  // namespace icr::datasets
