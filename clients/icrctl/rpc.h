// Helpers the service command groups share: one unary call with the client's metadata, a
// message read from a protobuf JSON file, page flags, and the readable forms of codes and money.
#pragma once

#include <google/protobuf/message.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>

#include "clients/icrctl/cli.h"
#include "clients/icrctl/client.h"
#include "clients/icrctl/output.h"
#include "icr/v1/common.pb.h"
#include "services/common/money.h"

namespace icrctl {

// One unary call on `stub` with the metadata and deadline of `client`; the status is returned.
template <class Stub, class Req, class Resp>
grpc::Status TryCall(const Client& client, Stub& stub,
                     grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                     const Req& req, Resp* resp) {
  grpc::ClientContext ctx;
  client.Prepare(ctx);
  return (stub.*method)(&ctx, req, resp);
}

// The same, reporting a failure as the command's one-line error.
template <class Stub, class Req, class Resp>
Resp Call(const Client& client, Stub& stub,
          grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*), const Req& req) {
  Resp resp;
  Check(TryCall(client, stub, method, req, &resp));
  return resp;
}

// One call by the invocation's caller on a fresh stub.
template <class Stub, class Req, class Resp>
Resp CallOnce(const Invocation& inv,
              grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
              const Req& req) {
  Client client(inv.globals);
  Stub stub(client.channel());
  return Call(client, stub, method, req);
}

// Prints `message` as protobuf JSON with --json, else readably with `print`.
template <class Message>
int PrintResult(const Invocation& inv, const Message& message,
                void (*print)(std::ostream&, const Message&)) {
  if (inv.globals.json) {
    out::PrintJson(message);
  } else {
    print(std::cout, message);
  }
  return 0;
}

// `message` from the protobuf JSON in `path` ('-' for stdin); a usage failure names the file.
inline void ReadMessage(const std::string& path, google::protobuf::Message* message) {
  std::string error;
  if (!out::FromJson(ReadInput(path), message, &error)) {
    throw Failure("INVALID_ARGUMENT: " + path + ": not an " + message->GetTypeName() + ": " + error,
                  kExitUsage);
  }
}

// The --file flag's message when given; `message` is left empty otherwise.
inline void ReadFileFlag(const Invocation& inv, google::protobuf::Message* message) {
  if (inv.Has("file")) ReadMessage(inv.Str("file"), message);
}

// A required flag's value.
inline std::string Required(const Invocation& inv, const std::string& flag) {
  if (!inv.Has(flag)) FailUsage(inv.name + ": --" + flag + " is required");
  return inv.Str(flag);
}

// --file: protobuf JSON of `what`; `overridden` when flags may override its fields.
inline void AddFileFlag(cxxopts::Options& o, const std::string& what, bool overridden) {
  o.add_options()("file",
                  "protobuf JSON of " + what + " ('-' for stdin)" +
                      (overridden ? "; flags override its fields" : ""),
                  cxxopts::value<std::string>());
}

// --expected-version: required, at least 1.
inline int64_t ExpectedVersion(const Invocation& inv) {
  Required(inv, "expected-version");
  const int64_t version = inv.Int("expected-version", 0, INT64_MAX);
  if (version < 1) FailUsage(inv.name + ": --expected-version: the version last read, 1 or more");
  return version;
}

inline void AddPageFlags(cxxopts::Options& o) {
  // clang-format off
  o.add_options()
    ("page-size", "rows per page (server default 50, max 500)", cxxopts::value<std::string>())
    ("page-token", "continue from this token", cxxopts::value<std::string>());
  // clang-format on
}

inline icr::v1::PageRequest PageOf(const Invocation& inv) {
  icr::v1::PageRequest page;
  page.set_page_size(static_cast<int>(inv.Int("page-size", 0, 100000)));
  page.set_page_token(inv.Str("page-token"));
  return page;
}

// "12 plans; more with --page-token T".
inline void PrintCount(int n, const std::string& one, const std::string& many,
                       const icr::v1::PageResponse& page) {
  std::printf("%d %s", n, n == 1 ? one.c_str() : many.c_str());
  if (!page.next_page_token().empty()) {
    std::printf("; more with --page-token %s", page.next_page_token().c_str());
  }
  std::printf("\n");
}

// A code as a flag gives it ("social_care", "requested-by-person") in the enum's spelling.
inline std::string EnumName(std::string text) {
  for (char& c : text)
    c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

// An enum flag: the value named by the flag (case and '-' for '_' do not matter), or a usage
// failure listing `choices`.
template <class Enum>
Enum EnumFlag(const Invocation& inv, const std::string& flag,
              bool (*parse)(const std::string&, Enum*), const std::string& choices) {
  Enum value{};
  if (!parse(EnumName(inv.Str(flag)), &value) || static_cast<int>(value) == 0) {
    FailUsage(inv.name + ": --" + flag + ": '" + inv.Str(flag) + "' is not one of " + choices);
  }
  return value;
}

// "Name (role), ORG", leaving out what is not given.
inline std::string StaffText(const icr::v1::StaffRef& s) {
  std::string out = s.name();
  if (!s.role().empty()) out += out.empty() ? s.role() : " (" + s.role() + ")";
  if (!s.organisation_code().empty()) out += (out.empty() ? "" : ", ") + s.organisation_code();
  return out;
}

inline std::string Yes(bool b) { return b ? "yes" : ""; }

// "£1,036.00" (icr::FormatPounds: exact pence, thousands separators); empty for 0 unless
// `zero`.
inline std::string Pounds(int64_t pence, bool zero = false) {
  if (pence == 0 && !zero) return "";
  return icr::FormatPounds(pence);
}

}  // namespace icrctl
