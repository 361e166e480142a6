// The command model of icrctl: global flags, the command table, and errors reported as one line
// "icrctl: <reason>" on stderr with a non-zero exit.
#pragma once

#include <grpcpp/support/status.h>

#include <cstdint>
#include <cxxopts.hpp>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace icrctl {

// Flags every command accepts.
struct Globals {
  std::string server;
  std::string token;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string purpose;
  std::string break_glass;
  bool json = false;
};

// A failure to report: `text` is the one-line reason (without the "icrctl: " prefix).
class Failure : public std::runtime_error {
 public:
  explicit Failure(const std::string& text, int exit_code = 1)
      : std::runtime_error(text), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Exit codes: 1 for a refused or failed operation, 2 for a bad command line.
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

[[noreturn]] void FailUsage(const std::string& text);
// "CODE: message", e.g. "NOT_FOUND: nhs_number: no such person visible to you".
[[noreturn]] void FailStatus(const absl::Status& status);
void Check(const absl::Status& status);
void Check(const grpc::Status& status);

// One run of a command: the parsed flags and the positional arguments.
struct Invocation {
  std::string name;  // e.g. "person get"
  const Globals& globals;
  const cxxopts::ParseResult& args;
  std::vector<std::string> positional;

  // A string flag's value, its default, or "" when it has neither.
  std::string Str(const std::string& flag) const;
  bool Has(const std::string& flag) const { return args.count(flag) > 0; }
  // A whole-number flag (declared as a string, default "0" unless given) within [min, max].
  int64_t Int(const std::string& flag, int64_t min, int64_t max) const;
  uint64_t Uint(const std::string& flag) const;
  // The positional arguments, checked to number exactly `n`; `what` names them in errors.
  const std::vector<std::string>& Positional(size_t n, const std::string& what) const;
};

struct Command {
  std::vector<std::string> path;  // {"admin", "token", "create"}
  std::string summary;            // one line for the command list
  std::string positional_help;    // e.g. "NHS_NUMBER"; empty when none
  std::function<void(cxxopts::Options&)> add_options;  // command flags; may be empty
  std::function<int(const Invocation&)> run;
  std::string details = {};  // printed after the flags by --help (a file layout, exit codes)
};

// Parses argv, dispatches to the matching command and returns the exit code. Prints failures.
int RunCli(int argc, char** argv, const std::vector<Command>& commands);

// Reads a whole file, or standard input for "-"; a Failure names the file otherwise.
std::string ReadInput(const std::string& path);

}  // namespace icrctl
