#include "services/datasets/cld_map.h"

#include <array>
#include <cctype>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "services/common/csv.h"
#include "services/common/status.h"
#include "services/common/validation.h"

namespace icr::datasets {
namespace {

using icr::v1::CareActEvent;

// A header or value as compared: lower case words of letters and digits joined by '_'
// ("Request: Route of Access" and "Request_Route_of_Access" -> "request_route_of_access"),
// "&" read as "and". A UTF-8 byte order mark is dropped.
std::string Key(std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  std::string out;
  bool gap = false;
  auto word = [&](std::string_view w) {
    if (gap && !out.empty()) out += '_';
    out += w;
    gap = false;
  };
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      word(std::string(1, static_cast<char>(std::tolower(u))));
    } else if (c == '&') {
      gap = true;
      word("and");
      gap = true;
    } else {
      gap = true;
    }
  }
  return out;
}

// The specification's columns (national-datasets.md 2.2), by Key.
enum Col {
  kLaCode, kPeriodStart, kPeriodEnd, kNhsNumber, kPersonId, kFirstName, kLastName, kGpName,
  kGpCode, kGender, kEthnicity, kBirth, kDeath, kClientType, kPrimarySupportReason, kPostcode,
  kAccommodation, kEmployment, kHasCarer, kAutism, kVisual, kHearing, kDementia, kFunding,
  kEventType, kEventReference, kEventStart, kEventEnd, kEventDescription, kEventOutcome,
  kRouteOfAccess, kAssessmentType, kEligibleNeeds, kAssessmentMethod, kCaringHours,
  kAdultsCaredFor, kAdult1, kAdult2, kAdult3, kServiceType, kServiceComponent, kDelivery,
  kCqcName, kCqcId, kReviewReason, kReviewOutcomes, kReviewMethod, kUnitCost, kCostFrequency,
  kPlannedUnits, kColumns
};

constexpr std::array<const char*, kColumns> kSpecNames = {
    "LA Code", "Reporting Period Start Date", "Reporting Period End Date", "NHS Number",
    "LA Person Unique Identifier", "First Name", "Last Name", "GP Practice Name",
    "GP Practice Code", "Gender", "Ethnicity", "Date of Birth", "Date of Death", "Client Type",
    "Primary Support Reason", "Postcode", "Accommodation Status", "Employment Status",
    "Has Unpaid Carer", "Autism Spectrum Disorder (ASD)", "Visual Impairment",
    "Hearing Impairment", "Dementia", "Client Funding Status", "Event Type", "Event Reference",
    "Event Start Date", "Event End Date", "Event Description", "Event Outcome",
    "Request: Route of Access", "Assessment Type", "Eligible Needs Identified",
    "Method of Assessment", "Total Hrs Caring per week", "No. of adults being cared for",
    "Adult 1 Linked Person_ID", "Adult 2 Linked Person_ID", "Adult 3 Linked Person_ID",
    "Service Type", "Service Component", "Delivery Mechanism", "Provider CQC Location Name",
    "Provider CQC Location ID", "Review Reason", "Review Outcomes Achieved", "Method of Review",
    "Unit Cost", "Cost Frequency (Unit Type)", "Planned units per week"};

// Without these a row cannot be placed: whose, which council and period, which event.
constexpr std::array<Col, 10> kMandatory = {kLaCode, kPeriodStart, kPeriodEnd, kNhsNumber,
                                             kPersonId, kClientType, kEventType,
                                             kEventReference, kEventStart, kEventEnd};

// Where each specification column is in the file (-1: absent), and its name as the file spells it.
struct Header {
  std::array<int, kColumns> at{};
  std::array<std::string, kColumns> name{};
};

absl::StatusOr<Header> MatchHeader(const std::vector<std::string>& columns) {
  std::map<std::string, int> spec;
  for (int c = 0; c < kColumns; ++c) spec[Key(kSpecNames[c])] = c;
  // Two readings of the link columns' spelling: "Person_ID" and "Person ID" both reduce to
  // "person_id"; the database names (underscores) reduce like the spaced ones.
  Header h;
  h.at.fill(-1);
  for (size_t i = 0; i < columns.size(); ++i) {
    auto it = spec.find(Key(columns[i]));
    if (it == spec.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("column '", columns[i], "': not a CLD column (Release 1 or 2)"));
    }
    if (h.at[it->second] >= 0) {
      return absl::InvalidArgumentError(absl::StrCat("column '", columns[i], "': repeated"));
    }
    h.at[it->second] = static_cast<int>(i);
    h.name[it->second] = columns[i];
  }
  for (Col c : kMandatory) {
    if (h.at[c] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("column '", kSpecNames[c], "': required, missing from the header"));
    }
  }
  for (int c = 0; c < kColumns; ++c) {
    if (h.name[c].empty()) h.name[c] = kSpecNames[c];
  }
  return h;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// One value list: the one vocabulary's value for each spelling the releases use (by Key).
using Vocabulary = std::map<std::string, std::string>;

Vocabulary Words(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  Vocabulary v;
  for (const auto& [from, to] : pairs) v[Key(from)] = to;
  return v;
}

// Client Type (2.3): R2 wording; R1 "Carer", "Carer known by association".
const Vocabulary& ClientTypes() {
  static const Vocabulary v = Words({
      {"Service user", "Service user"},
      {"Unpaid carer", "Unpaid carer"},
      {"Unpaid carer known by association", "Unpaid carer known by association"},
      {"Carer", "Unpaid carer"},
      {"Carer known by association", "Unpaid carer known by association"},
  });
  return v;
}

const Vocabulary& ServiceTypes() {
  static const Vocabulary v = Words({
      {"Long term support: Community", "Long term support: Community"},
      {"Long term support: Nursing care", "Long term support: Nursing care"},
      {"Long term support: Prison", "Long term support: Prison"},
      {"Long term support: Residential care", "Long term support: Residential care"},
      {"Short term support: Ongoing low level", "Short term support: Ongoing low level"},
      {"Short term support: Other short term", "Short term support: Other short term"},
      {"Short term support: ST-Max", "Short term support: ST-Max"},
      {"Unpaid carer support: Direct to unpaid carer",
       "Unpaid carer support: Direct to unpaid carer"},
      {"Unpaid carer support: Support involving the person cared-for",
       "Unpaid carer support: Support involving the person cared-for"},
      {"Carer Support: Direct to Carer", "Unpaid carer support: Direct to unpaid carer"},
      {"Carer Support: Support involving the person cared-for",
       "Unpaid carer support: Support involving the person cared-for"},
  });
  return v;
}

// Delivery Mechanism to the record's code list (care_act_delivery_mechanism).
const Vocabulary& DeliveryMechanisms() {
  static const Vocabulary v = Words({
      {"Direct payment", "direct_payment"},
      {"CASSR managed personal budget", "cassr_managed_pb"},
      {"CASSR commissioned support", "cassr_commissioned"},
  });
  return v;
}

// Primary Support Reason to the record's code list (care_act_primary_support_reason), which
// spells them as Release 1 did; the Release 2 spellings known (unverified list) map to them.
const Vocabulary& SupportReasons() {
  static const Vocabulary v = Words({
      {"Physical Support: Access & mobility only", "Physical Support: Access & mobility only"},
      {"Physical Support: Personal care support", "Physical Support: Personal care support"},
      {"Sensory Support: Support for visual impairment",
       "Sensory Support: Support for visual impairment"},
      {"Sensory Support: Support for hearing impairment",
       "Sensory Support: Support for hearing impairment"},
      {"Sensory Support: Support for dual impairment",
       "Sensory Support: Support for dual impairment"},
      {"Support with Memory & Cognition", "Support with Memory & Cognition"},
      {"Learning Disability Support", "Learning Disability Support"},
      {"Mental Health Support", "Mental Health Support"},
      {"Social Support: Substance misuse support", "Social Support: Substance misuse support"},
      {"Social Support: Asylum seeker support", "Social Support: Asylum seeker support"},
      {"Social Support: Support for Social Isolation/Other",
       "Social Support: Support for Social Isolation/Other"},
      {"Social support: Support for social isolation or other",
       "Social Support: Support for Social Isolation/Other"},
      {"Social Support: Support to Carer", "Social Support: Support to Carer"},
      {"Social support: Support to unpaid carer", "Social Support: Support to Carer"},
  });
  return v;
}

// Event Outcome (R2 list); the Release 1 values Release 2 dropped map as DHSC maps them.
const Vocabulary& Outcomes() {
  static const Vocabulary v = [] {
    Vocabulary out;
    for (const char* o :
         {"Progress to reablement/ST-Max", "Progress to assessment, review or reassessment",
          "Progress to support planning or services", "Continuation of support or services",
          "Admitted to hospital", "NFA: Deceased", "NFA: Information and advice or signposting",
          "NFA: No services offered for other reason", "NFA: Other",
          "NFA: Referral to NHS services or NHS funded social care",
          "NFA: Referral to other service within the local authority",
          "NFA: Responsibility moved to another local authority",
          "NFA: Self-funded client or under 12wk disregard", "NFA: Support declined",
          "NFA: Support ended as planned", "NFA: Support ended for other reason"}) {
      out[Key(o)] = o;
    }
    for (const char* r1 : {"Progress to financial assessment", "Progress to End of Life Care"}) {
      out[Key(r1)] = "Release 1 specification only: Not mapped";
    }
    return out;
  }();
  return v;
}

constexpr const char* kNotMapped = "Invalid and not mapped";

// The one vocabulary's value of `raw` (empty stays empty; a value the list lacks: kNotMapped).
std::string Map(const Vocabulary& v, const std::string& raw) {
  if (raw.empty()) return "";
  auto it = v.find(Key(raw));
  return it == v.end() ? kNotMapped : it->second;
}

// Which release a value's exact spelling belongs to: +1 Release 1 only, -1 Release 2 only.
int ReleaseSign(Col col, const std::string& raw) {
  static const std::set<std::string> r1 = {"Service User", "Carer", "Carer known by association",
                                           "Direct Payment", "CASSR Managed Personal Budget",
                                           "CASSR Commissioned Support"};
  static const std::set<std::string> r2 = {
      "Service user",   "Unpaid carer", "Unpaid carer known by association", "Direct payment",
      "CASSR managed personal budget", "CASSR commissioned support"};
  if (col == kServiceType) {
    const std::string k = Key(raw);
    if (k.rfind("carer_support", 0) == 0) return 1;
    if (k.rfind("unpaid_carer_support", 0) == 0) return -1;
    return 0;
  }
  if (r1.count(raw)) return 1;
  if (r2.count(raw)) return -1;
  return 0;
}

std::optional<CareActEvent::Kind> EventKindOf(const std::string& raw) {
  const std::string k = Key(raw);
  if (k == "request") return CareActEvent::REQUEST;
  if (k == "assessment") return CareActEvent::ASSESSMENT;
  if (k == "service") return CareActEvent::SERVICE;
  if (k == "review") return CareActEvent::REVIEW;
  return std::nullopt;
}

const char* KindTag(CareActEvent::Kind kind) {
  switch (kind) {
    case CareActEvent::REQUEST: return "req";
    case CareActEvent::ASSESSMENT: return "asm";
    case CareActEvent::SERVICE: return "svc";
    case CareActEvent::REVIEW: return "rev";
    default: return "x";
  }
}

std::string AssessmentType(const std::string& raw) {
  const std::string k = Key(raw);
  if (k.empty()) return "";
  if (k.find("carer") != std::string::npos) return "carer";
  if (k.rfind("short_term", 0) == 0) return "short_term";
  if (k.rfind("long_term", 0) == 0) return "long_term";
  return "";
}

// NHS Person Stated Gender code of a Gender cell.
std::string Sex(const std::string& raw) {
  const std::string k = Key(raw);
  if (k == "male" || k == "1" || k == "m") return "1";
  if (k == "female" || k == "2" || k == "f") return "2";
  if (k == "indeterminate" || k == "9" || k == "other") return "9";
  return "0";
}

// NHS ethnic category (A..S, Z, 99) of an Ethnicity cell: the R2 census wording ("Group:
// Detail"), the 2001 wording ("Group - Detail") or the one-letter code itself.
std::string EthnicCategory(const std::string& raw) {
  static const std::vector<std::pair<const char*, const char*>> details = {
      {"english_welsh_scottish_northern_irish_or_british", "A"}, {"british", "A"},
      {"irish", "B"}, {"gypsy_or_irish_traveller", "C"}, {"roma", "C"},
      {"any_other_white_background", "C"}, {"white_and_black_caribbean", "D"},
      {"white_and_black_african", "E"}, {"white_and_asian", "F"},
      {"any_other_mixed_or_multiple_background", "G"}, {"any_other_mixed_background", "G"},
      {"indian", "H"}, {"pakistani", "J"}, {"bangladeshi", "K"}, {"chinese", "R"},
      {"any_other_asian_background", "L"}, {"caribbean", "M"}, {"african", "N"},
      {"any_other_black_black_british_or_caribbean_background", "P"},
      {"any_other_black_background", "P"}, {"arab", "S"}, {"any_other_ethnic_group", "S"},
      {"refused", "Z"}, {"not_stated", "Z"}, {"undeclared_or_not_known", "99"}};
  std::string t = Trim(raw);
  if (t.size() == 1 && std::isalpha(static_cast<unsigned char>(t[0]))) {
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(t[0])));
    if (c >= 'A' && c <= 'S' && c != 'I' && c != 'O' && c != 'Q') return std::string(1, c);
    if (c == 'Z') return "Z";
  }
  // The detail after the group ("White: Irish" -> "irish"); "White: Any other White
  // background" reads as "any_other_white_background".
  const size_t sep = t.find_first_of(":-");
  const std::string detail = Key(sep == std::string::npos ? t : t.substr(sep + 1));
  for (const auto& [d, code] : details) {
    if (detail == d) return code;
  }
  return "99";
}

// A date cell: YYYY-MM-DD or DD/MM/YYYY (both seen in council extracts; unverified which the
// specification uses), with a time of day after a space ignored.
absl::StatusOr<std::string> DateCell(const std::string& cell, const std::string& field) {
  std::string t = Trim(cell);
  if (const size_t sp = t.find(' '); sp != std::string::npos) t = t.substr(0, sp);
  return CsvDate(t, field);
}

// A number cell ("12.5", "-3", "1,250.00", "£20"); nullopt when not a number.
std::optional<double> Number(const std::string& cell) {
  std::string s;
  for (char c : cell) {
    if (c != ',' && c != ' ' && static_cast<unsigned char>(c) < 0x80) s += c;
  }
  if (s.empty()) return std::nullopt;
  try {
    size_t used = 0;
    const double d = std::stod(s, &used);
    if (used != s.size() || !std::isfinite(d)) return std::nullopt;
    return d;
  } catch (...) {
    return std::nullopt;
  }
}

// Weekly cost in pence of a service: unit cost x planned units a week when the units are given;
// otherwise the unit cost spread over a week by its frequency. Zero when it cannot be worked
// out or is negative (the raw cells are kept).
int64_t WeeklyPence(const std::string& unit_cost, const std::string& frequency,
                    const std::string& units) {
  const auto cost = Number(unit_cost);
  if (!cost || *cost <= 0) return 0;
  double weekly = 0;
  if (const auto n = Number(units); n && *n > 0) {
    weekly = *cost * *n;
  } else {
    const std::string f = Key(frequency);
    auto starts = [&](const char* p) { return f.rfind(p, 0) == 0; };
    if (starts("week")) weekly = *cost;
    else if (starts("fortnight")) weekly = *cost / 2;
    else if (starts("4_week") || starts("four_week")) weekly = *cost / 4;
    else if (starts("month")) weekly = *cost * 12 / 52;
    else if (starts("quarter")) weekly = *cost * 4 / 52;
    else if (starts("annual") || starts("year")) weekly = *cost / 52;
  }
  const double pence = std::round(weekly * 100);
  if (pence < 0 || pence > static_cast<double>(kMaxWeeklyPence)) return 0;
  return static_cast<int64_t>(pence);
}

// A person of the file, by LA Person Unique Identifier.
struct FilePerson {
  size_t index = 0;  // in Mapped.people
  int first_row = 0;
};

class Mapper {
 public:
  Mapper(const Table& table, const std::string& council, Header header,
         std::vector<Origin>* event_origin, std::vector<Origin>* person_origin)
      : table_(table),
        council_(council),
        h_(std::move(header)),
        event_origin_(event_origin),
        person_origin_(person_origin) {}

  absl::StatusOr<Mapped> Run() {
    out_.sender_org = council_;
    out_.rows_read[TableName()] = static_cast<int64_t>(table_.rows.size());
    if (table_.rows.empty()) {
      return absl::InvalidArgumentError(
          "the file has no rows: its reporting period is unknown, so nothing would be replaced");
    }
    RETURN_IF_ERROR(Period());
    int sign_r1 = 0, sign_r2 = 0;
    for (const auto& row : table_.rows) {
      for (Col c : {kClientType, kDelivery, kServiceType}) {
        const int s = ReleaseSign(c, Cell(row, c));
        sign_r1 += s > 0;
        sign_r2 += s < 0;
      }
    }
    release_ = sign_r1 > 0 && sign_r2 == 0 ? "R1" : "R2";
    for (size_t i = 0; i < table_.rows.size(); ++i) Row(static_cast<int>(i) + 1, table_.rows[i]);
    Subjects();
    return std::move(out_);
  }

 private:
  std::string Cell(const std::vector<std::string>& row, Col c) const {
    const int at = h_.at[c];
    return at < 0 || static_cast<size_t>(at) >= row.size() ? "" : Trim(row[at]);
  }

  void Refuse(int row, Col c, const std::string& reason) {
    out_.refused.push_back({table_.name.empty() ? "CLD" : table_.name, row,
                            c == kColumns ? "" : h_.name[c], reason});
  }

  // The reporting period: every row's, and they must agree (one file, one period).
  absl::Status Period() {
    for (Col c : {kPeriodStart, kPeriodEnd}) {
      std::string seen;
      for (const auto& row : table_.rows) {
        auto d = DateCell(Cell(row, c), h_.name[c]);
        if (!d.ok()) return d.status();
        if (d->empty()) return absl::InvalidArgumentError(h_.name[c] + ": required");
        if (!seen.empty() && *d != seen) {
          return absl::InvalidArgumentError(
              absl::StrCat(h_.name[c], ": rows disagree (", seen, " and ", *d, ")"));
        }
        seen = *d;
      }
      (c == kPeriodStart ? out_.period_start : out_.period_end) = seen;
    }
    if (out_.period_end < out_.period_start) {
      return absl::InvalidArgumentError(h_.name[kPeriodEnd] + ": before the start date");
    }
    return absl::OkStatus();
  }

  // The file's person of a row (created at its first row), or nullptr after a refusal.
  FilePerson* PersonOf(int n, const std::vector<std::string>& row) {
    const std::string id = Cell(row, kPersonId);
    if (id.empty()) {
      Refuse(n, kPersonId, "required");
      return nullptr;
    }
    if (auto s = CheckText(id, h_.name[kPersonId], 40, true); !s.ok()) {
      Refuse(n, kPersonId, "not a short printable identifier (at most 40 characters)");
      return nullptr;
    }
    std::string nhs;
    if (auto v = NormaliseNhsNumber(Cell(row, kNhsNumber), "NHS Number"); v.ok()) nhs = *v;
    auto it = people_.find(id);
    if (it != people_.end()) {
      icr::v1::Person& p = out_.people[it->second.index];
      if (!nhs.empty() && !p.nhs_number().empty() && nhs != p.nhs_number()) {
        Refuse(n, kNhsNumber,
               "differs from the NHS number of an earlier row with the same LA Person Unique "
               "Identifier");
        return nullptr;
      }
      if (p.nhs_number().empty()) p.set_nhs_number(nhs);
      return &it->second;
    }
    icr::v1::Person p;
    p.set_nhs_number(nhs);
    p.set_given_name(Cell(row, kFirstName));
    p.set_family_name(Cell(row, kLastName));
    if (auto d = DateCell(Cell(row, kBirth), "birth"); d.ok()) p.set_date_of_birth(*d);
    p.set_sex(Sex(Cell(row, kGender)));
    p.set_ethnic_category(EthnicCategory(Cell(row, kEthnicity)));
    p.set_postcode(Cell(row, kPostcode));
    std::string gp = Cell(row, kGpCode);
    for (auto& c : gp) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    p.set_gp_practice_code(gp);
    auto* local = p.add_local_identifiers();
    local->set_system(CldPersonSystem(council_));
    local->set_value(id);
    out_.people.push_back(std::move(p));
    if (person_origin_) person_origin_->push_back({TableName(), n});
    auto [ins, ok] = people_.emplace(id, FilePerson{out_.people.size() - 1, n});
    return &ins->second;
  }

  // Adds an event with a fresh id, or refuses the row when the file has the id already.
  void AddEvent(int n, Col key_col, icr::v1::Event event, const std::string& person_id) {
    if (auto [it, fresh] = event_rows_.emplace(event.event_id(), n); !fresh) {
      Refuse(n, key_col, absl::StrCat("repeats the event of row ", it->second));
      return;
    }
    out_.events.push_back(std::move(event));
    if (event_origin_) event_origin_->push_back({TableName(), n});
    subject_of_.push_back(person_id);
  }

  void Row(int n, const std::vector<std::string>& row) {
    if (row.size() > table_.columns.size()) {
      Refuse(n, kColumns, "more cells than the header has columns");
      return;
    }
    const std::string la = Cell(row, kLaCode);
    if (la.empty()) return Refuse(n, kLaCode, "required");
    // GSS or the older three-digit LA code: unverified which the return carries. A GSS code
    // must be the sending council's; another form is taken as the sender's own.
    if (IsGssCodeSyntax(la) && la != council_) {
      return Refuse(n, kLaCode, "names another council than the sender");
    }
    const std::string raw_client = Cell(row, kClientType);
    const std::string client = Map(ClientTypes(), raw_client);
    if (client.empty() || client == kNotMapped) {
      return Refuse(n, kClientType, "not a Client Type of Release 1 or 2");
    }
    const auto kind = EventKindOf(Cell(row, kEventType));
    if (!kind) return Refuse(n, kEventType, "not Request, Assessment, Service or Review");
    const std::string ref = Cell(row, kEventReference);
    if (ref.empty()) return Refuse(n, kEventReference, "required");
    auto start = DateCell(Cell(row, kEventStart), h_.name[kEventStart]);
    if (!start.ok() || start->empty()) {
      return Refuse(n, kEventStart, start.ok() ? "required" : "not a date (YYYY-MM-DD or DD/MM/YYYY)");
    }
    auto end = DateCell(Cell(row, kEventEnd), h_.name[kEventEnd]);
    if (!end.ok()) return Refuse(n, kEventEnd, "not a date (YYYY-MM-DD or DD/MM/YYYY)");
    if (!end->empty() && *end < *start) return Refuse(n, kEventEnd, "before Event Start Date");
    std::optional<std::string> death;
    if (const std::string d = Cell(row, kDeath); !d.empty()) {
      auto v = DateCell(d, h_.name[kDeath]);
      if (!v.ok()) return Refuse(n, kDeath, "not a date (YYYY-MM-DD or DD/MM/YYYY)");
      death = *v;
    }
    FilePerson* person = PersonOf(n, row);
    if (!person) return;
    const std::string person_id = Cell(row, kPersonId);
    const std::string care_act_id = absl::StrCat(KindTag(*kind), ":", person_id, ":", ref);
    if (care_act_id.size() > 64) {
      return Refuse(n, kEventReference, "too long with the person id (at most 64 characters)");
    }

    icr::v1::Event event;
    event.set_event_id("cld:" + care_act_id);
    auto* c = event.mutable_care_act();
    c->set_care_act_id(care_act_id);
    c->set_kind(*kind);
    c->set_council_code(council_);
    c->set_start_date(*start);
    c->set_end_date(*end);
    c->set_source_release(release_);
    c->set_raw_client_type(raw_client);
    c->set_raw_outcome(Cell(row, kEventOutcome));
    c->set_outcome(Map(Outcomes(), c->raw_outcome()));
    c->set_raw_primary_support_reason(Cell(row, kPrimarySupportReason));
    c->set_primary_support_reason(Map(SupportReasons(), c->raw_primary_support_reason()));
    if (*kind == CareActEvent::ASSESSMENT) {
      c->set_raw_assessment_type(Cell(row, kAssessmentType));
      c->set_assessment_type(AssessmentType(c->raw_assessment_type()));
    }
    if (*kind == CareActEvent::SERVICE) {
      c->set_raw_service_type(Cell(row, kServiceType));
      c->set_service_type(Map(ServiceTypes(), c->raw_service_type()));
      c->set_raw_delivery_mechanism(Cell(row, kDelivery));
      const std::string mech = Map(DeliveryMechanisms(), c->raw_delivery_mechanism());
      c->set_delivery_mechanism(mech == kNotMapped ? "" : mech);
      c->set_raw_unit_cost(Cell(row, kUnitCost));
      c->set_raw_cost_frequency(Cell(row, kCostFrequency));
      c->set_raw_planned_units_per_week(Cell(row, kPlannedUnits));
      c->set_weekly_cost_pence(WeeklyPence(c->raw_unit_cost(), c->raw_cost_frequency(),
                                           c->raw_planned_units_per_week()));
    }
    const icr::v1::Event care_act = event;
    AddEvent(n, kEventReference, std::move(event), person_id);

    if (client != "Service user" && *kind == CareActEvent::ASSESSMENT) {
      CarerLinks(n, row, care_act, client);
    }
    if (death && !deaths_.count(person_id)) {
      deaths_.insert(person_id);
      icr::v1::Event d;
      d.set_event_id("cld:death:" + person_id);
      d.mutable_death()->set_date_of_death(*death);
      AddEvent(n, kDeath, std::move(d), person_id);
    }
  }

  // An unpaid carer's assessment, on each adult it names: the record keeps a carer's assessment
  // on the person cared for (IntegratedRecord.carers). The carer's own Care Act event stays
  // theirs.
  void CarerLinks(int n, const std::vector<std::string>& row, const icr::v1::Event& assessment,
                  const std::string& client) {
    const auto& a = assessment.care_act();
    const icr::v1::Person& carer = out_.people[people_.at(Cell(row, kPersonId)).index];
    std::string name = Trim(carer.given_name() + " " + carer.family_name());
    if (name.empty()) name = "Unpaid carer " + Cell(row, kPersonId);
    int slot = 0;
    for (Col col : {kAdult1, kAdult2, kAdult3}) {
      ++slot;
      const std::string linked = Cell(row, col);
      if (linked.empty()) continue;
      const std::string id = absl::StrCat(a.care_act_id(), ":", slot);
      if (id.size() > 64) {
        Refuse(n, col, "too long with the event reference (at most 64 characters)");
        continue;
      }
      icr::v1::Event e;
      e.set_event_id("cld:" + id);
      auto* c = e.mutable_carer_assessment();
      c->set_carer_assessment_id(id);
      c->set_carer_name(name);
      c->set_relationship(client == "Unpaid carer" ? "unpaid carer"
                                                   : "unpaid carer known by association");
      c->set_council_code(council_);
      c->set_offered_date(a.start_date());
      c->set_completed_date(a.end_date());
      c->set_outcome(a.outcome());
      c->set_raw_outcome(a.raw_outcome());
      c->set_raw_client_type(a.raw_client_type());
      c->set_source_release(release_);
      AddEvent(n, col, std::move(e), "\x01" + linked);  // resolved in Subjects()
    }
  }

  // Names each event's person: their NHS number when the file gives a valid one on any of
  // their rows, else the council's person id. A carer's linked adult is read as an LA Person
  // Unique Identifier of the file, or else as an NHS number (the link's form is unverified).
  void Subjects() {
    for (size_t i = 0; i < out_.events.size(); ++i) {
      std::string key = subject_of_[i];
      auto& e = out_.events[i];
      const bool linked = !key.empty() && key[0] == '\x01';
      if (linked) key = key.substr(1);
      auto it = people_.find(key);
      if (it != people_.end() && !out_.people[it->second.index].nhs_number().empty()) {
        e.set_nhs_number(out_.people[it->second.index].nhs_number());
        continue;
      }
      if (linked && it == people_.end()) {
        if (auto v = NormaliseNhsNumber(key, "linked"); v.ok()) {
          e.set_nhs_number(*v);
          continue;
        }
      }
      auto* local = e.mutable_subject_local_identifier();
      local->set_system(CldPersonSystem(council_));
      local->set_value(key);
    }
  }

  std::string TableName() const { return table_.name.empty() ? "CLD" : table_.name; }

  const Table& table_;
  const std::string council_;
  const Header h_;
  std::vector<Origin>* event_origin_;
  std::vector<Origin>* person_origin_;
  std::string release_;
  Mapped out_;
  std::map<std::string, FilePerson> people_;      // by LA Person Unique Identifier
  std::map<std::string, int> event_rows_;         // event id -> its row
  std::vector<std::string> subject_of_;           // per event: LA person id (\x01: a link)
  std::set<std::string> deaths_;
};

}  // namespace

std::string CldPersonSystem(const std::string& council_code) { return council_code + ":CLD"; }

absl::StatusOr<Mapped> MapCld(const Table& table, const std::string& council_code,
                              std::vector<Origin>* event_origin,
                              std::vector<Origin>* person_origin) {
  auto header = MatchHeader(table.columns);
  if (!header.ok()) return header.status();
  return Mapper(table, council_code, *std::move(header), event_origin, person_origin).Run();
}

}  // namespace icr::datasets
