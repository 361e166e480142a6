// Printing results: readable tables and fields by default, protobuf JSON with --json; and
// reading protobuf JSON input.
#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <ostream>
#include <string>
#include <vector>

namespace icrctl::out {

// Protobuf JSON with the .proto field names; `pretty` adds indentation and newlines.
std::string ToJson(const google::protobuf::Message& message, bool pretty);
void PrintJson(const google::protobuf::Message& message);      // pretty, to stdout
// One line; `flush` for output someone may be waiting on (a followed feed).
void PrintJsonLine(const google::protobuf::Message& message, bool flush = false);

// Strict protobuf JSON (either field-name style; unknown fields are errors). False and
// `error` set when the text is not a `message`.
bool FromJson(const std::string& json, google::protobuf::Message* message, std::string* error);

// Left-aligned columns separated by two spaces; empty cells print as "-".
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void Row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }
  void Print(std::ostream& os, const std::string& indent = "") const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// "label: value" lines with the values aligned; empty values print as "-".
class Fields {
 public:
  void Add(std::string label, std::string value) { rows_.emplace_back(std::move(label), std::move(value)); }
  void Print(std::ostream& os, const std::string& indent = "  ") const;

 private:
  std::vector<std::pair<std::string, std::string>> rows_;
};

std::string Dash(const std::string& value);
// "2026-11-23 04:51:32Z"; empty for an unset timestamp.
std::string Time(const google::protobuf::Timestamp& ts);
// "943 476 5919" for ten digits; anything else unchanged.
std::string NhsDisplay(const std::string& nhs_number);

}  // namespace icrctl::out
