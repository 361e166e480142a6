#include "clients/icrctl/cli.h"

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "services/common/config.h"
#include "services/common/grpc_status.h"

namespace icrctl {
namespace {

constexpr char kDefaultServer[] = "127.0.0.1:50051";

// Global flags that take a value, so a scan for the command words can skip the value too.
const std::set<std::string> kGlobalValueFlags = {"--server",   "--token",   "--tls-ca",
                                                 "--tls-cert", "--tls-key", "--purpose",
                                                 "--break-glass"};
const std::set<std::string> kGlobalBoolFlags = {"--json", "-h", "--help"};

std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  return text;
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

void AddGlobalOptions(cxxopts::Options& options) {
  // The token has no displayed default: --help must never print a secret from the environment.
  // clang-format off
  options.add_options("Global")
    ("server", "server address, host:port (env ICR_SERVER)",
     cxxopts::value<std::string>()->default_value(icr::EnvOr("ICR_SERVER", kDefaultServer)))
    ("token", "bearer token (env ICR_TOKEN)", cxxopts::value<std::string>())
    ("json", "print protobuf JSON instead of readable tables")
    ("tls-ca", "PEM CA bundle to verify the server (enables TLS)", cxxopts::value<std::string>())
    ("tls-cert", "PEM client certificate chain (mutual TLS)", cxxopts::value<std::string>())
    ("tls-key", "PEM client private key (mutual TLS)", cxxopts::value<std::string>())
    ("purpose", "purpose of use, sent as x-purpose-of-use",
     cxxopts::value<std::string>()->default_value("direct_care"))
    ("break-glass", "break glass with this reason (audited), sent as x-break-glass-reason",
     cxxopts::value<std::string>())
    ("h,help", "show help");
  // clang-format on
}

std::string StrOf(const cxxopts::ParseResult& args, const std::string& flag) {
  const auto& value = args[flag];
  return value.count() || value.has_default() ? value.as<std::string>() : std::string();
}

Globals ReadGlobals(const cxxopts::ParseResult& args) {
  Globals g;
  g.server = StrOf(args, "server");
  g.token = args.count("token") ? StrOf(args, "token") : icr::EnvOr("ICR_TOKEN", "");
  g.json = args.count("json") > 0;
  g.tls_ca = StrOf(args, "tls-ca");
  g.tls_cert = StrOf(args, "tls-cert");
  g.tls_key = StrOf(args, "tls-key");
  g.purpose = StrOf(args, "purpose");
  g.break_glass = StrOf(args, "break-glass");
  return g;
}

bool IsPrefix(const std::vector<std::string>& prefix, const std::vector<std::string>& path) {
  return prefix.size() <= path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

void PrintCommandList(std::ostream& os, const std::vector<Command>& commands,
                      const std::vector<std::string>& prefix) {
  size_t width = 0;
  for (const auto& c : commands) {
    if (IsPrefix(prefix, c.path)) width = std::max(width, Join(c.path).size());
  }
  for (const auto& c : commands) {
    if (!IsPrefix(prefix, c.path)) continue;
    const std::string name = Join(c.path);
    os << "  " << name << std::string(width - name.size() + 3, ' ') << c.summary << "\n";
  }
}

void PrintUsage(std::ostream& os, const std::vector<Command>& commands,
                const std::vector<std::string>& prefix) {
  os << "icrctl: command-line client of the integrated care record\n\n"
     << "usage: icrctl [global flags] " << (prefix.empty() ? "COMMAND" : Join(prefix) + " ...")
     << " [flags] [arguments]\n\ncommands:\n";
  PrintCommandList(os, commands, prefix);
  cxxopts::Options global("icrctl");
  AddGlobalOptions(global);
  std::string help = global.help({"Global"});
  // Drop cxxopts' own usage line: the one above says it better.
  if (auto pos = help.find("\n\n"); pos != std::string::npos) help = help.substr(pos + 2);
  os << "\n" << help << "\nRun `icrctl COMMAND --help` for the flags of one command.\n";
}

struct Split {
  std::vector<std::string> words;  // the command words found
  std::vector<std::string> rest;   // everything else, in order
  bool help = false;
};

// Separates the command words from the flags; global flags may come before the command.
Split SplitArgs(int argc, char** argv, const std::vector<Command>& commands) {
  Split s;
  bool done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string tok = argv[i];
    if (tok == "-h" || tok == "--help") s.help = true;
    if (done) {
      s.rest.push_back(tok);
      continue;
    }
    const std::string name = tok.substr(0, tok.find('='));
    if (kGlobalValueFlags.count(name)) {
      s.rest.push_back(tok);
      if (name == tok && i + 1 < argc) s.rest.push_back(argv[++i]);
      continue;
    }
    if (kGlobalBoolFlags.count(tok)) {
      s.rest.push_back(tok);
      continue;
    }
    if (tok.size() > 1 && tok[0] == '-') {  // a command flag: the command words have ended
      s.rest.push_back(tok);
      done = true;
      continue;
    }
    s.words.push_back(tok);
    bool exact = false, prefix = false;
    for (const auto& c : commands) {
      if (c.path == s.words) exact = true;
      if (IsPrefix(s.words, c.path)) prefix = true;
    }
    if (exact || !prefix) done = true;
  }
  return s;
}

int RunCommand(const Command& cmd, const std::vector<std::string>& rest) {
  const std::string name = Join(cmd.path);
  cxxopts::Options options("icrctl " + name, cmd.summary);
  options.custom_help("[flags]");
  options.positional_help(cmd.positional_help);
  if (cmd.add_options) cmd.add_options(options);
  AddGlobalOptions(options);
  options.add_options()("args", "positional arguments", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"args"});

  std::vector<const char*> argv = {"icrctl"};
  for (const auto& a : rest) argv.push_back(a.c_str());
  cxxopts::ParseResult args;
  try {
    args = options.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const cxxopts::exceptions::exception& e) {
    FailUsage(name + ": " + e.what() + " (see icrctl " + name + " --help)");
  }
  if (args.count("help")) {
    std::cout << options.help({"", "Global"}) << (cmd.details.empty() ? "" : "\n" + cmd.details);
    return 0;
  }
  const Globals globals = ReadGlobals(args);
  Invocation inv{name, globals, args, {}};
  if (args.count("args")) inv.positional = args["args"].as<std::vector<std::string>>();
  if (cmd.positional_help.empty() && !inv.positional.empty()) {
    FailUsage(name + ": unexpected argument '" + inv.positional[0] + "' (see icrctl " + name +
              " --help)");
  }
  return cmd.run(inv);
}

}  // namespace

void FailUsage(const std::string& text) { throw Failure(text, kExitUsage); }

void FailStatus(const absl::Status& status) {
  throw Failure(absl::StatusCodeToString(status.code()) + ": " + std::string(status.message()));
}

void Check(const absl::Status& status) {
  if (!status.ok()) FailStatus(status);
}

void Check(const grpc::Status& status) { Check(icr::FromGrpc(status)); }

const std::vector<std::string>& Invocation::Positional(size_t n, const std::string& what) const {
  if (positional.size() != n) {
    FailUsage(name + ": expected " + what + " (see icrctl " + name + " --help)");
  }
  return positional;
}

std::string Invocation::Str(const std::string& flag) const { return StrOf(args, flag); }

int64_t Invocation::Int(const std::string& flag, int64_t min, int64_t max) const {
  const std::string text = Has(flag) ? Str(flag) : "0";
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    FailUsage(name + ": --" + flag + ": '" + text + "' is not a whole number");
  }
  if (value < min || value > max) {
    FailUsage(name + ": --" + flag + ": must be between " + std::to_string(min) + " and " +
              std::to_string(max));
  }
  return value;
}

uint64_t Invocation::Uint(const std::string& flag) const {
  const std::string text = Has(flag) ? Str(flag) : "0";
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    FailUsage(name + ": --" + flag + ": '" + text + "' is not a whole number");
  }
  return value;
}

std::string ReadInput(const std::string& path) {
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure("cannot read " + path + ": " + std::strerror(errno));
  ss << in.rdbuf();
  return ss.str();
}

int RunCli(int argc, char** argv, const std::vector<Command>& commands) {
  try {
    Split split = SplitArgs(argc, argv, commands);
    const Command* cmd = nullptr;
    for (const auto& c : commands) {
      if (c.path == split.words) cmd = &c;
    }
    if (!cmd) {
      bool known_prefix = false;
      for (const auto& c : commands) known_prefix |= IsPrefix(split.words, c.path);
      if (!known_prefix) {
        FailUsage("unknown command '" + Join(split.words) + "' (see icrctl --help)");
      }
      if (split.help) {
        PrintUsage(std::cout, commands, split.words);
        return 0;
      }
      if (split.words.empty()) FailUsage("missing command (see icrctl --help)");
      FailUsage(Join(split.words) + ": missing subcommand (see icrctl " + Join(split.words) +
                " --help)");
    }
    return RunCommand(*cmd, split.rest);
  } catch (const Failure& f) {
    std::cout.flush();
    std::cerr << "icrctl: " << OneLine(f.what()) << std::endl;
    return f.exit_code();
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "icrctl: INTERNAL: " << OneLine(e.what()) << std::endl;
    return kExitFailed;
  }
}

}  // namespace icrctl
