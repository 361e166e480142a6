#include "clients/icrctl/output.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <ctime>
#include <iostream>

namespace icrctl::out {

std::string ToJson(const google::protobuf::Message& message, bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = pretty;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) return "{}";
  if (!pretty) return json;
  while (!json.empty() && json.back() == '\n') json.pop_back();
  return json;
}

void PrintJson(const google::protobuf::Message& message) {
  std::cout << ToJson(message, true) << "\n";
}

void PrintJsonLine(const google::protobuf::Message& message, bool flush) {
  std::cout << ToJson(message, false) << "\n";
  if (flush) std::cout.flush();
}

bool FromJson(const std::string& json, google::protobuf::Message* message, std::string* error) {
  message->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(json, message, options);
  if (status.ok()) return true;
  *error = std::string(status.message());
  *error = error->substr(0, error->find('\n'));  // drop the parser's caret diagram
  return false;
}

std::string Dash(const std::string& value) { return value.empty() ? "-" : value; }

namespace {
// Display width in characters: UTF-8 continuation bytes take no column ("£", "é").
size_t Width(const std::string& s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}
}  // namespace

void Table::Print(std::ostream& os, const std::string& indent) const {
  std::vector<size_t> width(headers_.size(), 0);
  for (size_t i = 0; i < headers_.size(); ++i) width[i] = Width(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], Width(Dash(row[i])));
    }
  }
  auto line = [&](const std::vector<std::string>& cells, bool dash) {
    std::string out = indent;
    for (size_t i = 0; i < headers_.size(); ++i) {
      std::string cell = i < cells.size() ? cells[i] : "";
      if (dash) cell = Dash(cell);
      out += cell;
      if (i + 1 < headers_.size()) out += std::string(width[i] - Width(cell) + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    os << out << "\n";
  };
  line(headers_, false);
  for (const auto& row : rows_) line(row, true);
}

void Fields::Print(std::ostream& os, const std::string& indent) const {
  size_t width = 0;
  for (const auto& [label, value] : rows_) width = std::max(width, Width(label));
  for (const auto& [label, value] : rows_) {
    os << indent << label << ":" << std::string(width - Width(label) + 2, ' ') << Dash(value)
       << "\n";
  }
}

std::string Time(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "";
  const std::time_t t = static_cast<std::time_t>(ts.seconds());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::string NhsDisplay(const std::string& n) {
  if (n.size() != 10) return n;
  return n.substr(0, 3) + " " + n.substr(3, 3) + " " + n.substr(6);
}

}  // namespace icrctl::out
