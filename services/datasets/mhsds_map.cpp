#include "services/datasets/mhsds_map.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

#include "services/common/validation.h"

namespace icr::datasets {
namespace {
using icr::v1::Event;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// v5 (and v4.1) short names renamed in v6, in lower case; the table is "" for every table.
struct Alias {
  std::string_view table, from, to;
};
constexpr Alias kAliases[] = {
    {"MHS000", "orgidprov", "orgidprovider"},
    {"MHS002", "gmpcodereg", "gmpreg"},
    {"MHS003", "accommodationstatuscode", "accommodationtype"},
    {"MHS003", "accommodationstatusdate", "accommodationtypedate"},
    {"MHS101", "orgidreferring", "orgidreferringorg"},
    {"MHS101", "referringcareprofessionalstaffgroup", "referringcareprofessionaltype"},
    {"MHS101", "nhsservagreelinenum", "nhsservagreelineid"},
    {"MHS201", "attendordnacode", "attendstatus"},
    {"MHS201", "careprofteamlocalid", "othercareprofteamlocalid"},
    {"MHS501", "hospprovspellnum", "hospprovspellid"},
    {"MHS501", "sourceadmcodehospprovspell", "sourceadmmhhospprovspell"},
    {"MHS501", "admmethcodehospprovspell", "methadmmhhospprovspell"},
    {"MHS501", "dischmethcodehospprovspell", "methofdischmhhospprovspell"},
    {"MHS501", "dischdestcodehospprovspell", "destofdischhospprovspell"},
    {"MHS502", "hospprovspellnum", "hospprovspellid"},
    {"MHS502", "hospitalbedtypemh", "mhadmittedpatientclass"},
};

// v5 MHAdmittedPatientClass (HospitalBedTypeMH) codes with one v6 code (national-datasets.md
// 1.2); 30 and 35-38 split in v6 and are refused.
const std::map<std::string, std::string>& BedTypeV5() {
  static const auto* m = new std::map<std::string, std::string>{
      {"10", "200"}, {"11", "201"}, {"12", "202"}, {"13", "203"}, {"14", "204"}, {"15", "205"},
      {"19", "206"}, {"20", "207"}, {"21", "208"}, {"22", "209"}, {"23", "300"}, {"24", "301"},
      {"25", "302"}, {"26", "302"}, {"27", "303"}, {"28", "304"}, {"29", "305"}, {"31", "306"},
      {"32", "307"}, {"33", "308"}, {"34", "309"}, {"39", "211"}, {"40", "210"}};
  return *m;
}

// One table of the file with its columns by short name.
class View {
 public:
  View() = default;
  View(const Table* t, std::string prefix) : t_(t), prefix_(std::move(prefix)) {
    for (size_t i = 0; i < t->columns.size(); ++i) index_[MhsdsColumn(prefix_, t->columns[i])] = i;
  }
  bool present() const { return t_ != nullptr; }
  size_t rows() const { return t_ ? t_->rows.size() : 0; }
  const std::string& prefix() const { return prefix_; }
  bool Has(std::string_view column) const { return index_.count(Lower(column)) > 0; }
  // The trimmed cell, "" when the column or cell is absent.
  std::string Get(size_t row, std::string_view column) const {
    auto it = index_.find(Lower(column));
    if (!t_ || it == index_.end() || it->second >= t_->rows[row].size()) return "";
    return Trim(t_->rows[row][it->second]);
  }
  // The column's name as in the file (for refusals), or the short name when absent.
  std::string Name(std::string_view column) const {
    auto it = index_.find(Lower(column));
    if (!t_ || it == index_.end()) return std::string(column);
    return t_->columns[it->second];
  }

 private:
  const Table* t_ = nullptr;
  std::string prefix_;
  std::map<std::string, size_t> index_;
};

// A date cell: YYYY-MM-DD, DD/MM/YYYY, either with a time after a space or 'T' (Access date/time
// exports). nullopt for a bad one; "" for an empty one.
std::optional<std::string> DateCell(const std::string& cell) {
  if (cell.empty()) return std::string();
  std::string d = cell.substr(0, cell.find_first_of(" T"));
  if (d.size() == 10 && d[2] == '/' && d[5] == '/') {
    d = d.substr(6, 4) + "-" + d.substr(3, 2) + "-" + d.substr(0, 2);
  }
  if (!ParseDate(d)) return std::nullopt;
  return d;
}

// A time cell: HH:MM[:SS], or a date/time whose time part is that (Access keeps times as
// 1899-12-30 HH:MM:SS). "00:00:00" for an empty one, nullopt for a bad one.
std::optional<std::string> TimeCell(const std::string& cell) {
  if (cell.empty()) return std::string("00:00:00");
  std::string t =
      cell.substr(cell.find_first_of(" T") == std::string::npos ? 0 : cell.find_first_of(" T") + 1);
  if (t.size() == 5) t += ":00";
  if (t.size() != 8 || t[2] != ':' || t[5] != ':') return std::nullopt;
  for (size_t i : {0, 1, 3, 4, 6, 7}) {
    if (!std::isdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
  }
  if (t.substr(0, 2) > "23" || t.substr(3, 2) > "59" || t.substr(6, 2) > "59") return std::nullopt;
  return t;
}

google::protobuf::Timestamp At(const std::string& date, const std::string& time) {
  google::protobuf::Timestamp ts;
  google::protobuf::util::TimeUtil::FromString(date + "T" + time + "Z", &ts);
  return ts;
}

// Two-digit codes sent as one digit ("3" for "03"), as spreadsheets drop the zero.
std::string TwoDigits(const std::string& code) {
  if (code.size() == 1 && std::isdigit(static_cast<unsigned char>(code[0]))) return "0" + code;
  return code;
}

// The record's service area for a team type (MHSDS ServTeamTypeMH).
std::string ServiceArea(const std::string& team_type) {
  static const std::set<std::string> older{"A07", "A15", "A17"};
  static const std::set<std::string> ld{"C01", "E01", "E04"};
  if (older.count(team_type)) return "older_adult";
  if (ld.count(team_type)) return "ld";
  if (!team_type.empty() && team_type[0] == 'C') return "cyp";
  return "adult_mh";
}

// The order events are sent in, so that what a close names is stored before it.
int Stage(const Event& e) {
  using K = Event::KindCase;
  switch (e.kind_case()) {
    case K::kReferralOpened:
      return 0;
    case K::kAdmission:
      return 1;
    case K::kDetentionStart:
      return 2;
    case K::kCtoStart:
    case K::kConditionalDischargeStart:
      return 3;
    case K::kReferralClosed:
    case K::kDischarge:
    case K::kDetentionEnd:
    case K::kKeyWorkerEnded:
    case K::kCtoEnd:
    case K::kConditionalDischargeEnd:
      return 5;
    case K::kDeath:
      return 6;
    default:
      return 4;
  }
}

class Mapper {
 public:
  Mapper(const std::vector<Table>& tables, std::string sender) : sender_(std::move(sender)) {
    for (const auto& t : tables) {
      const std::string prefix = MhsdsTablePrefix(t.name);
      out_.rows_read[t.name] += static_cast<std::int64_t>(t.rows.size());
      if (!prefix.empty() && !views_.count(prefix)) views_.emplace(prefix, View(&t, prefix));
    }
  }

  absl::StatusOr<Mapped> Run(std::vector<Origin>* event_origin,
                             std::vector<Origin>* person_origin) {
    const View header = Find("MHS000");
    if (!header.present() || header.rows() == 0) {
      return absl::InvalidArgumentError("MHS000Header: missing (the reporting period)");
    }
    const std::string provider = header.Get(0, "OrgIDProvider");
    if (!provider.empty() && Upper(provider) != sender_) {
      return absl::FailedPreconditionError("MHS000Header." + header.Name("OrgIDProvider") +
                                           ": the file is " + Upper(provider) + "'s; " + sender_ +
                                           " may load its own submissions only");
    }
    const auto start = DateCell(header.Get(0, "ReportingPeriodStartDate"));
    const auto end = DateCell(header.Get(0, "ReportingPeriodEndDate"));
    if (!start || start->empty()) {
      return absl::InvalidArgumentError("MHS000Header." + header.Name("ReportingPeriodStartDate") +
                                        ": required, a date");
    }
    if (!end || end->empty() || *end < *start) {
      return absl::InvalidArgumentError("MHS000Header." + header.Name("ReportingPeriodEndDate") +
                                        ": required, a date not before the start");
    }
    out_.sender_org = sender_;
    out_.period_start = *start;
    out_.period_end = *end;

    Teams();
    People();
    Referrals();
    Contacts();
    Spells();
    LegalStatus();
    CareCoordinators();
    Statuses("MHS003", "AccommodationType", "AccommodationTypeDate", "AccommodationTypeStartDate");
    Statuses("MHS004", "EmployStatus", "EmployStatusRecDate", "EmployStatusStartDate");

    // Stable order: opening events first, closes after, deaths last.
    std::vector<size_t> order(events_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return Stage(events_[a].first) < Stage(events_[b].first);
    });
    for (size_t i : order) {
      out_.events.push_back(events_[i].first);
      if (event_origin) event_origin->push_back(events_[i].second);
    }
    if (person_origin) *person_origin = std::move(person_origin_);
    return std::move(out_);
  }

 private:
  static std::string Upper(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return s;
  }

  View Find(const std::string& prefix) const {
    auto it = views_.find(prefix);
    return it == views_.end() ? View() : it->second;
  }

  void Refuse(const View& v, size_t row, std::string_view column, std::string reason) {
    out_.refused.push_back({v.prefix().empty() ? "" : TableName(v), static_cast<int64_t>(row + 1),
                            v.Name(column), std::move(reason)});
  }
  std::string TableName(const View& v) const {
    for (const auto& [name, count] : out_.rows_read) {
      if (MhsdsTablePrefix(name) == v.prefix()) return name;
    }
    return v.prefix();
  }

  // The row's OrgIDProv, when the file carries it, must be the sender's.
  bool SendersRow(const View& v, size_t row) {
    const std::string org = Upper(v.Get(row, "OrgIDProv"));
    if (org.empty() || org == sender_) return true;
    Refuse(v, row, "OrgIDProv", "another provider's row (" + org + "); the sender is " + sender_);
    return false;
  }

  // A required date; refuses the row when missing or bad.
  std::optional<std::string> Date(const View& v, size_t row, std::string_view column,
                                  bool required = true) {
    auto d = DateCell(v.Get(row, column));
    if (!d) {
      Refuse(v, row, column, "not a date (YYYY-MM-DD)");
      return std::nullopt;
    }
    if (d->empty() && required) {
      Refuse(v, row, column, "required");
      return std::nullopt;
    }
    return d;
  }
  std::optional<google::protobuf::Timestamp> When(const View& v, size_t row,
                                                  std::string_view date_column,
                                                  std::string_view time_column) {
    auto d = Date(v, row, date_column);
    if (!d) return std::nullopt;
    auto t = TimeCell(v.Get(row, time_column));
    if (!t) {
      Refuse(v, row, time_column, "not a time (HH:MM:SS)");
      return std::nullopt;
    }
    return At(*d, *t);
  }

  // A row's patient: their NHS number from MHS001 (refused when they have none).
  std::optional<std::string> Patient(const View& v, size_t row, const std::string& local_id) {
    if (local_id.empty()) {
      Refuse(v, row, "LocalPatientID", "required");
      return std::nullopt;
    }
    auto it = nhs_.find(local_id);
    if (it == nhs_.end()) {
      Refuse(v, row, "LocalPatientID", "no MHS001 row with a valid NHS number for this patient");
      return std::nullopt;
    }
    return it->second;
  }

  Event& Add(const View& v, size_t row, const std::string& id, const std::string& nhs) {
    events_.push_back({Event(), Origin{TableName(v), static_cast<int64_t>(row + 1)}});
    Event& e = events_.back().first;
    e.set_event_id(id);
    e.set_nhs_number(nhs);
    return e;
  }

  void Teams() {
    const View t = Find("MHS902");
    for (size_t r = 0; r < t.rows(); ++r) {
      const std::string id = t.Get(r, "CareProfTeamLocalID");
      if (!id.empty()) team_type_[id] = Upper(t.Get(r, "ServTeamTypeMH"));
    }
  }

  void People() {
    const View p = Find("MHS001");
    for (size_t r = 0; r < p.rows(); ++r) {
      if (!SendersRow(p, r)) continue;
      const std::string local = p.Get(r, "LocalPatientID");
      if (local.empty()) {
        Refuse(p, r, "LocalPatientID", "required");
        continue;
      }
      auto nhs = NormaliseNhsNumber(p.Get(r, "NHSNumber"), "NHSNumber");
      if (!nhs.ok()) {
        Refuse(p, r, "NHSNumber",
               "missing or not a valid NHS number: the patient's rows are not "
               "recorded");
        continue;
      }
      auto dob = Date(p, r, "PersonBirthDate");
      if (!dob) continue;
      auto death = Date(p, r, "PersDeathDate", false);
      if (!death) continue;
      icr::v1::Person person;
      person.set_nhs_number(*nhs);
      person.set_date_of_birth(*dob);
      std::string sex = p.Get(r, "Gender");
      if (sex == "X") sex = "0";  // not known
      person.set_sex(sex);
      person.set_ethnic_category(Upper(p.Get(r, "EthnicCategory")));
      person.set_postcode(Upper(p.Get(r, "Postcode")));
      std::string issuer = Upper(p.Get(r, "OrgIDLocalPatientID"));
      if (issuer.empty()) issuer = sender_;
      auto* id = person.add_local_identifiers();
      id->set_system(issuer + ":MHSDS");
      id->set_value(local);
      nhs_[local] = *nhs;
      out_.people.push_back(std::move(person));
      person_origin_.push_back({TableName(p), static_cast<int64_t>(r + 1)});
      if (!death->empty()) {
        Add(p, r, "MHS001:" + local + ":death", *nhs).mutable_death()->set_date_of_death(*death);
      }
    }
    // GP practice (MHS002GP): the registration without an end date.
    const View gp = Find("MHS002");
    for (size_t r = 0; r < gp.rows(); ++r) {
      auto it = nhs_.find(gp.Get(r, "LocalPatientID"));
      if (it == nhs_.end() || !gp.Get(r, "EndDateGMPRegistration").empty()) continue;
      for (auto& person : out_.people) {
        if (person.nhs_number() == it->second)
          person.set_gp_practice_code(Upper(gp.Get(r, "GMPReg")));
      }
    }
  }

  void Referrals() {
    // v5: the team type referred to is on MHS102ServiceTypeReferredTo.
    const View other = Find("MHS102");
    std::map<std::string, std::string> v5_team;
    for (size_t r = 0; r < other.rows(); ++r) {
      const std::string type = Upper(other.Get(r, "ServTeamTypeRefToMH"));
      const std::string ref = other.Get(r, "ServiceRequestID");
      if (!type.empty() && !v5_team.count(ref)) v5_team[ref] = type;
    }
    const View v = Find("MHS101");
    for (size_t r = 0; r < v.rows(); ++r) {
      if (!SendersRow(v, r)) continue;
      const std::string id = v.Get(r, "ServiceRequestID");
      if (id.empty()) {
        Refuse(v, r, "ServiceRequestID", "required");
        continue;
      }
      auto nhs = Patient(v, r, v.Get(r, "LocalPatientID"));
      if (!nhs) continue;
      std::string team;
      if (auto t = team_type_.find(v.Get(r, "CareProfTeamLocalID")); t != team_type_.end()) {
        team = t->second;
      } else if (auto t5 = v5_team.find(id); t5 != v5_team.end()) {
        team = t5->second;
      }
      if (team.empty()) {
        Refuse(v, r, "CareProfTeamLocalID",
               "no team type: no MHS902 ServTeamTypeMH for the team (v6) nor MHS102 "
               "ServTeamTypeRefToMH (v5)");
        continue;
      }
      auto received = Date(v, r, "ReferralRequestReceivedDate");
      if (!received) continue;
      auto closed = Date(v, r, "ServDischDate", false);
      if (!closed) continue;
      referral_team_[id] = team;
      auto* o = Add(v, r, "MHS101:" + id + ":opened", *nhs).mutable_referral_opened();
      o->set_referral_id(id);
      o->set_provider_code(sender_);
      o->set_team_type(team);
      o->set_service_area(ServiceArea(team));
      o->set_received_date(*received);
      o->set_source_of_referral(Upper(v.Get(r, "SourceOfReferralMH")));
      if (!closed->empty()) {
        auto* c = Add(v, r, "MHS101:" + id + ":closed", *nhs).mutable_referral_closed();
        c->set_referral_id(id);
        c->set_closed_date(*closed);
        c->set_reason(v.Get(r, "ReferClosReason"));
      }
      referral_nhs_[id] = *nhs;
    }
  }

  void Contacts() {
    const View v = Find("MHS201");
    for (size_t r = 0; r < v.rows(); ++r) {
      if (!SendersRow(v, r)) continue;
      const std::string id = v.Get(r, "CareContactID");
      const std::string ref = v.Get(r, "ServiceRequestID");
      if (id.empty()) {
        Refuse(v, r, "CareContactID", "required");
        continue;
      }
      auto nhs = referral_nhs_.find(ref);
      if (nhs == referral_nhs_.end()) {
        Refuse(v, r, "ServiceRequestID", "no MHS101 referral recorded with this id");
        continue;
      }
      auto date = Date(v, r, "CareContDate");
      if (!date) continue;
      std::string team = referral_team_[ref];
      if (auto t = team_type_.find(v.Get(r, "OtherCareProfTeamLocalID")); t != team_type_.end()) {
        team = t->second;
      }
      const std::string status = v.Get(r, "AttendStatus");
      auto* c = Add(v, r, "MHS201:" + id, nhs->second).mutable_care_contact();
      c->set_contact_id(id);
      c->set_referral_id(ref);
      c->set_contact_date(*date);
      c->set_attend_status(status);
      c->set_attended(status == "5" || status == "6");
      c->set_consultation_mechanism(TwoDigits(v.Get(r, "ConsMechanismMH")));
      c->set_team_type(team);
    }
  }

  void Spells() {
    // Bed type: the spell's first ward stay (MHS502) that has one.
    const View wards = Find("MHS502");
    std::map<std::string, std::pair<std::string, std::string>> bed;  // spell -> (start, class)
    for (size_t r = 0; r < wards.rows(); ++r) {
      const std::string spell = wards.Get(r, "HospProvSpellID");
      const std::string cls = wards.Get(r, "MHAdmittedPatientClass");
      const std::string start = DateCell(wards.Get(r, "StartDateWardStay")).value_or("");
      if (cls.empty()) continue;
      auto it = bed.find(spell);
      if (it == bed.end() || start < it->second.first) bed[spell] = {start, cls};
    }
    const View v = Find("MHS501");
    for (size_t r = 0; r < v.rows(); ++r) {
      if (!SendersRow(v, r)) continue;
      const std::string id = v.Get(r, "HospProvSpellID");
      const std::string ref = v.Get(r, "ServiceRequestID");
      if (id.empty()) {
        Refuse(v, r, "HospProvSpellID", "required");
        continue;
      }
      auto nhs = referral_nhs_.find(ref);
      if (nhs == referral_nhs_.end()) {
        Refuse(v, r, "ServiceRequestID", "no MHS101 referral recorded with this id");
        continue;
      }
      std::string cls = bed.count(id) ? bed[id].second : "";
      if (BedTypeV5().count(cls)) cls = BedTypeV5().at(cls);
      if (cls.size() != 3) {
        Refuse(v, r, "HospProvSpellID",
               cls.empty() ? "no MHS502 ward stay with MHAdmittedPatientClass"
                           : "MHS502 MHAdmittedPatientClass '" + cls + "' has no single v6 code");
        continue;
      }
      auto admitted = When(v, r, "StartDateHospProvSpell", "StartTimeHospProvSpell");
      if (!admitted) continue;
      auto* a = Add(v, r, "MHS501:" + id + ":admitted", nhs->second).mutable_admission();
      a->set_spell_id(id);
      a->set_provider_code(sender_);
      *a->mutable_admitted_at() = *admitted;
      a->set_bed_type(cls);
      a->set_admission_method(v.Get(r, "MethAdmMHHospProvSpell"));
      a->set_referral_id(ref);
      if (v.Get(r, "DischDateHospProvSpell").empty()) continue;
      auto discharged = When(v, r, "DischDateHospProvSpell", "DischTimeHospProvSpell");
      if (!discharged) continue;
      std::string method = v.Get(r, "MethOfDischMHHospProvSpell");
      // MHSDS-only 6 (self-discharge) and 7 (by relative or advocate): the record's 2.
      if (method == "6" || method == "7") method = "2";
      if (method.empty()) method = "9";
      auto* d = Add(v, r, "MHS501:" + id + ":discharged", nhs->second).mutable_discharge();
      d->set_spell_id(id);
      *d->mutable_discharged_at() = *discharged;
      d->set_discharge_method(method);
      d->set_discharge_destination(TwoDigits(v.Get(r, "DestOfDischHospProvSpell")));
    }
  }

  void LegalStatus() {
    const View v = Find("MHS401");
    std::map<std::string, std::string> period_nhs;
    for (size_t r = 0; r < v.rows(); ++r) {
      if (!SendersRow(v, r)) continue;
      const std::string id = v.Get(r, "MHActLegalStatusClassPeriodID");
      if (id.empty()) {
        Refuse(v, r, "MHActLegalStatusClassPeriodID", "required");
        continue;
      }
      auto nhs = Patient(v, r, v.Get(r, "LocalPatientID"));
      if (!nhs) continue;
      period_nhs[id] = *nhs;
      const std::string code = TwoDigits(v.Get(r, "LegalStatusCode"));
      if (code == "01" || code == "98" || code == "99" || code.empty()) {
        Refuse(v, r, "LegalStatusCode",
               "'" + code + "' is not a detention: the period is not recorded as one");
        continue;
      }
      auto start = When(v, r, "StartDateMHActLegalStatusClass", "StartTimeMHActLegalStatusClass");
      if (!start) continue;
      auto* s = Add(v, r, "MHS401:" + id + ":started", *nhs).mutable_detention_start();
      s->set_detention_id(id);
      s->set_legal_status_code(code);
      *s->mutable_started_at() = *start;
      s->set_provider_code(sender_);
      if (v.Get(r, "EndDateMHActLegalStatusClass").empty()) continue;
      auto end = When(v, r, "EndDateMHActLegalStatusClass", "EndTimeMHActLegalStatusClass");
      if (!end) continue;
      auto* e = Add(v, r, "MHS401:" + id + ":ended", *nhs).mutable_detention_end();
      e->set_detention_id(id);
      *e->mutable_ended_at() = *end;
      e->set_end_reason(v.Get(r, "LegalStatusClassPeriodEndReason"));
    }
    // MHS404 community treatment orders and MHS403 conditional discharges, keyed by the period.
    const View cto = Find("MHS404");
    for (size_t r = 0; r < cto.rows(); ++r) {
      const std::string id = cto.Get(r, "MHActLegalStatusClassPeriodID");
      auto nhs = period_nhs.find(id);
      if (nhs == period_nhs.end()) {
        Refuse(cto, r, "MHActLegalStatusClassPeriodID", "no MHS401 period with this id");
        continue;
      }
      auto start = Date(cto, r, "StartDateCommTreatOrd");
      if (!start) continue;
      auto expiry = Date(cto, r, "ExpiryDateCommTreatOrd", false);
      auto end = Date(cto, r, "EndDateCommTreatOrd", false);
      if (!expiry || !end) continue;
      auto* s = Add(cto, r, "MHS404:" + id + ":started", nhs->second).mutable_cto_start();
      s->set_cto_id(id);
      s->set_detention_id(id);
      s->set_start_date(*start);
      s->set_expiry_date(*expiry);
      s->set_provider_code(sender_);
      if (end->empty()) continue;
      auto* e = Add(cto, r, "MHS404:" + id + ":ended", nhs->second).mutable_cto_end();
      e->set_cto_id(id);
      e->set_end_date(*end);
      e->set_end_reason(cto.Get(r, "CommTreatOrdEndReason"));
    }
    const View cd = Find("MHS403");
    for (size_t r = 0; r < cd.rows(); ++r) {
      const std::string id = cd.Get(r, "MHActLegalStatusClassPeriodID");
      auto nhs = period_nhs.find(id);
      if (nhs == period_nhs.end()) {
        Refuse(cd, r, "MHActLegalStatusClassPeriodID", "no MHS401 period with this id");
        continue;
      }
      auto start = Date(cd, r, "StartDateMHCondDisch");
      if (!start) continue;
      auto end = Date(cd, r, "EndDateMHCondDisch", false);
      if (!end) continue;
      auto* s = Add(cd, r, "MHS403:" + id + ":started", nhs->second)
                    .mutable_conditional_discharge_start();
      s->set_conditional_discharge_id(id);
      s->set_detention_id(id);
      s->set_start_date(*start);
      s->set_provider_code(sender_);
      if (end->empty()) continue;
      auto* e =
          Add(cd, r, "MHS403:" + id + ":ended", nhs->second).mutable_conditional_discharge_end();
      e->set_conditional_discharge_id(id);
      e->set_end_date(*end);
      e->set_end_reason(cd.Get(r, "CondDischEndReason"));
      e->set_absolute_discharge_responsible(cd.Get(r, "AbsDischResp"));
    }
  }

  void CareCoordinators() {
    const View v = Find("MHS006");
    for (size_t r = 0; r < v.rows(); ++r) {
      auto nhs = Patient(v, r, v.Get(r, "LocalPatientID"));
      if (!nhs) continue;
      const std::string prof = v.Get(r, "CareProfLocalID");
      if (prof.empty()) {
        Refuse(v, r, "CareProfLocalID", "required");
        continue;
      }
      auto start = Date(v, r, "StartDateAssCareCoord");
      if (!start) continue;
      auto end = Date(v, r, "EndDateAssCareCoord", false);
      if (!end) continue;
      const std::string id = v.Get(r, "LocalPatientID") + ":" + prof + ":" + *start;
      auto* k = Add(v, r, "MHS006:" + id + ":assigned", *nhs).mutable_key_worker_assigned();
      k->set_assignment_id(id);
      k->mutable_key_worker()->set_name("Care professional " + prof);
      k->mutable_key_worker()->set_role("Care coordinator");
      k->mutable_key_worker()->set_organisation_code(sender_);
      k->set_start_date(*start);
      if (end->empty()) continue;
      auto* e = Add(v, r, "MHS006:" + id + ":ended", *nhs).mutable_key_worker_ended();
      e->set_assignment_id(id);
      e->set_end_date(*end);
    }
  }

  // MHS003 accommodation / MHS004 employment: one observation per patient and date recorded.
  void Statuses(const std::string& prefix, std::string_view code_col, std::string_view date_col,
                std::string_view start_col) {
    const View v = Find(prefix);
    for (size_t r = 0; r < v.rows(); ++r) {
      const std::string local = v.Get(r, "LocalPatientID");
      auto nhs = Patient(v, r, local);
      if (!nhs) continue;
      std::string date = v.Get(r, date_col).empty() ? v.Get(r, start_col) : v.Get(r, date_col);
      auto d = DateCell(date);
      if (!d || d->empty()) {
        Refuse(v, r, date_col, "required, a date");
        continue;
      }
      const std::string code = Upper(TwoDigits(v.Get(r, code_col)));
      Event& e = Add(v, r, prefix + ":" + local + ":" + *d, *nhs);
      if (prefix == "MHS003") {
        e.mutable_accommodation_status()->set_code(code);
        e.mutable_accommodation_status()->set_recorded_date(*d);
      } else {
        e.mutable_employment_status()->set_code(code);
        e.mutable_employment_status()->set_recorded_date(*d);
        const std::string hours = v.Get(r, "WeekHoursWorked");
        if (!hours.empty() && hours.size() <= 3 &&
            std::all_of(hours.begin(), hours.end(), ::isdigit)) {
          e.mutable_employment_status()->set_weekly_hours(std::stoi(hours));
        }
      }
    }
  }

  std::string sender_;
  std::map<std::string, View> views_;
  Mapped out_;
  std::vector<std::pair<Event, Origin>> events_;
  std::vector<Origin> person_origin_;
  std::map<std::string, std::string> nhs_;            // LocalPatientID -> NHS number
  std::map<std::string, std::string> team_type_;      // CareProfTeamLocalID -> ServTeamTypeMH
  std::map<std::string, std::string> referral_nhs_;   // ServiceRequestID -> NHS number
  std::map<std::string, std::string> referral_team_;  // ServiceRequestID -> team type
};

}  // namespace

std::string MhsdsTablePrefix(std::string_view name) {
  if (name.size() < 6) return "";
  std::string p = Lower(name.substr(0, 6));
  if (p.substr(0, 3) != "mhs") return "";
  for (size_t i = 3; i < 6; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(p[i]))) return "";
  }
  return "MHS" + p.substr(3);
}

std::string MhsdsColumn(std::string_view table, std::string_view header) {
  std::string name = Lower(Trim(header));
  for (const auto& a : kAliases) {
    if (a.table == table && a.from == name) return std::string(a.to);
  }
  return name;
}

bool MhsdsS117Qualifying(std::string_view code) {
  static const std::set<std::string_view> kQualifying{"03", "09", "10", "15", "16",
                                                      "17", "18", "37", "38"};
  return kQualifying.count(code) > 0;
}

absl::StatusOr<Mapped> MapMhsds(const std::vector<Table>& tables, const std::string& sender_org,
                                std::vector<Origin>* event_origin,
                                std::vector<Origin>* person_origin) {
  std::string sender = sender_org;
  std::transform(sender.begin(), sender.end(), sender.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return Mapper(tables, sender).Run(event_origin, person_origin);
}

}  // namespace icr::datasets
