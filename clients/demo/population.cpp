#include "clients/demo/population.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "services/common/status.h"
#include "tests/support/builders.h"

namespace icrctl::demo {
namespace {

using icr::Date;
using icr::v1::Event;
namespace build = icr::build;
using std::chrono::days;

constexpr int64_t kFirstStem = 999000001;
constexpr int64_t kLastStem = 999999999;
constexpr int kHistoryDays = 1095;  // about 36 months before the as-of date
constexpr int64_t kDay = 86400;

// ---- Reference tables ----

// Four trusts with their ICB and two of its councils, plus CNTW (RX4) and Leeds and York (RGD)
// whose ICBs have one council each in the reference set. Codes are from
// reference/organisations.csv.
const std::vector<Placement> kPlacements = {
    {"RW4", "QYG", "E08000012", {"L1", "L4", "L6", "L7", "L8", "L11", "L13", "L15", "L17", "L19", "L24"}},
    {"RW4", "QYG", "E08000014", {"L20", "L21", "L22", "L23", "L30", "L31", "PR8", "PR9"}},
    {"RXV", "QOP", "E08000003", {"M1", "M4", "M8", "M9", "M11", "M13", "M14", "M16", "M20", "M22", "M40"}},
    {"RXV", "QOP", "E08000006", {"M3", "M5", "M6", "M7", "M27", "M28", "M30", "M38"}},
    {"RV5", "QKK", "E09000022", {"SE11", "SE24", "SE27", "SW2", "SW4", "SW8", "SW9", "SW16"}},
    {"RV5", "QKK", "E09000028", {"SE1", "SE5", "SE15", "SE16", "SE17", "SE21", "SE22"}},
    {"RXY", "QKS", "E10000016", {"CT1", "CT9", "CT11", "DA1", "DA11", "ME14", "ME15", "TN23", "TN24"}},
    {"RXY", "QKS", "E06000035", {"ME1", "ME2", "ME4", "ME5", "ME7", "ME8"}},
    {"RX4", "QHM", "E08000021", {"NE1", "NE2", "NE3", "NE4", "NE5", "NE6", "NE7", "NE15"}},
    {"RGD", "QWO", "E08000035", {"LS2", "LS6", "LS7", "LS8", "LS9", "LS11", "LS12", "LS14", "LS28"}},
};

struct Weighted {
  const char* value;
  double weight;
};

// England's ethnic mix (2021 census, rounded), by NHS ethnic category.
const std::vector<Weighted> kEthnicity = {
    {"A", 74}, {"B", 1},    {"C", 6},   {"D", 0.8}, {"E", 0.5}, {"F", 0.9}, {"G", 0.8},
    {"H", 3.1}, {"J", 2.7}, {"K", 1.1}, {"L", 2.1}, {"M", 1.1}, {"N", 2.5}, {"P", 0.4},
    {"R", 0.7}, {"S", 1.3}, {"Z", 0.5}, {"99", 0.5}};

// Adult age bands of people in secondary mental health services.
struct AgeBand {
  int lo, hi;
  double weight;
};
const std::vector<AgeBand> kAges = {{18, 25, 15}, {26, 35, 20}, {36, 45, 18}, {46, 55, 17},
                                    {56, 64, 12}, {65, 74, 9},  {75, 90, 9}};

enum class NameGroup { kGeneral, kIrish, kOtherWhite, kSouthAsian, kBlack, kChinese, kOther };

const std::vector<std::string> kMaleGeneral = {
    "Oliver", "George", "Harry", "Jack", "Jacob", "Thomas", "James", "William", "Daniel",
    "Michael", "David", "Paul", "Mark", "Andrew", "Steven", "Christopher", "Robert", "John",
    "Peter", "Matthew", "Ryan", "Liam", "Connor", "Joseph", "Samuel", "Adam", "Kevin", "Gary",
    "Stephen", "Anthony", "Brian", "Keith", "Colin", "Derek"};
const std::vector<std::string> kFemaleGeneral = {
    "Olivia", "Amelia", "Emily", "Isla", "Jessica", "Sophie", "Chloe", "Lucy", "Sarah", "Emma",
    "Laura", "Rebecca", "Hannah", "Charlotte", "Rachel", "Nicola", "Claire", "Lisa", "Karen",
    "Susan", "Julie", "Helen", "Joanne", "Michelle", "Amy", "Megan", "Lauren", "Margaret",
    "Patricia", "Jean", "Barbara", "Christine", "Ann", "Carol"};
const std::vector<std::string> kMaleSouthAsian = {
    "Mohammed", "Muhammad", "Imran", "Amir", "Arjun", "Rahul", "Sanjay", "Ravi",
    "Hassan", "Bilal", "Zain", "Tariq", "Anil", "Vikram", "Kamran", "Shahid"};
const std::vector<std::string> kFemaleSouthAsian = {
    "Aisha", "Fatima", "Priya", "Anjali", "Sana", "Ayesha", "Nadia", "Zara",
    "Shabana", "Rukhsana", "Sunita", "Meera", "Amina", "Yasmin", "Farah", "Nazia"};
const std::vector<std::string> kMaleBlack = {
    "Kwame", "Emmanuel", "Samuel", "David", "Daniel", "Joshua", "Tyrone", "Kofi",
    "Chukwuemeka", "Tunde", "Jerome", "Marcus", "Andre", "Segun", "Ibrahim", "Abdi"};
const std::vector<std::string> kFemaleBlack = {
    "Grace", "Blessing", "Abena", "Chioma", "Funmilayo", "Precious", "Adaeze", "Simone",
    "Janelle", "Keisha", "Faith", "Esther", "Amara", "Ngozi", "Hodan", "Ruth"};
const std::vector<std::string> kMaleChinese = {"Wei", "Jun", "Hao", "Ming", "Jian", "Kai", "Lei", "Tao"};
const std::vector<std::string> kFemaleChinese = {"Mei", "Li", "Xiu", "Ying", "Hui", "Jing", "Lan", "Yan"};

const std::vector<std::string> kFamilyGeneral = {
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Jackson", "Clarke", "Harris", "Lewis", "Martin", "Cooper", "Hughes", "Edwards", "Turner",
    "Hill", "Moore", "Baker", "Ward", "Morris", "Carter", "Bennett", "Shaw", "Marshall"};
const std::vector<std::string> kFamilyIrish = {"Murphy", "Kelly", "O'Brien", "Byrne", "Ryan",
                                               "O'Connor", "Doyle", "Walsh", "McCarthy", "Gallagher"};
const std::vector<std::string> kFamilyOtherWhite = {"Kowalski", "Nowak", "Popescu", "Silva", "Rossi",
                                                    "Horvath", "Petrov", "Santos", "Ferreira", "Lewandowski"};
const std::vector<std::string> kFamilySouthAsian = {"Khan", "Ahmed", "Patel", "Hussain", "Ali",
                                                    "Singh", "Shah", "Rahman", "Islam", "Miah",
                                                    "Chowdhury", "Uddin", "Sharma", "Iqbal"};
const std::vector<std::string> kFamilyBlack = {"Okafor", "Mensah", "Adeyemi", "Campbell", "Asante",
                                               "Mohamed", "Osei", "Okonkwo", "Boateng", "Adebayo",
                                               "Francis", "Hassan", "Williams", "Clarke"};
const std::vector<std::string> kFamilyChinese = {"Chen", "Wang", "Li", "Zhang", "Liu",
                                                 "Wong", "Lam", "Cheung", "Ho", "Ng"};
const std::vector<std::string> kFamilyOther = {"Nguyen", "Tran", "Yilmaz", "Ahmadi", "Haddad",
                                               "Mansour", "Demir", "Hosseini"};

const std::vector<std::string> kStaffGiven = {"Alex", "Sam", "Jo", "Chris", "Jamie", "Morgan",
                                              "Jordan", "Charlie", "Robin", "Kim", "Sasha", "Priya",
                                              "Femi", "Aisha", "Tom", "Rachel", "Helen", "David"};
const std::vector<std::string> kStaffFamily = {"Morgan", "Patel", "Okafor", "Hughes", "Murray",
                                               "Shah", "Bennett", "Reid", "Campbell", "Foster",
                                               "Ellis", "Price", "Doyle", "Grant", "Hassan", "Lowe"};

const std::vector<Weighted> kReferralSource = {
    {"GP", 40}, {"Self", 10}, {"A&E", 15}, {"Police", 5}, {"Crisis team", 10},
    {"Social services", 8}, {"Carer or relative", 7}, {"Other", 5}};
const std::vector<Weighted> kCloseReason = {
    {"Treatment completed", 45}, {"Transferred to primary care", 25}, {"Moved out of area", 8},
    {"Did not engage", 12}, {"Transferred to another team", 10}};
const std::vector<Weighted> kMechanism = {{"01", 55}, {"02", 35}, {"11", 10}};
const std::vector<Weighted> kAdmissionMethod = {{"21", 45}, {"25", 25}, {"22", 15}, {"11", 15}};
const std::vector<Weighted> kDestination = {{"19", 90}, {"53", 6}, {"40", 4}};
// Detentions tied to an admission: qualifying s3, s37 (10) and s45A (37, rare); non-qualifying
// s2, s4 and s136 (20).
const std::vector<Weighted> kSection = {{"02", 40}, {"03", 39}, {"04", 4},
                                        {"20", 10}, {"10", 5},  {"37", 2}};
const std::vector<Weighted> kEmploymentWorkingAge = {
    {"01", 18}, {"02", 14}, {"03", 6}, {"04", 32}, {"05", 5},
    {"06", 12}, {"07", 4},  {"08", 2}, {"ZZ", 7}};
const std::vector<Weighted> kEmploymentOlder = {{"08", 80}, {"04", 8}, {"07", 4}, {"01", 3}, {"ZZ", 5}};
const std::vector<Weighted> kAccommodation = {
    {"01", 15}, {"02", 25}, {"03", 18}, {"04", 20}, {"05", 3}, {"11", 4}, {"09", 2},
    {"10", 1},  {"12", 1},  {"14", 2},  {"15", 1},  {"16", 1}, {"18", 3}, {"19", 3},
    {"20", 0.5}, {"21", 0.5}};
const std::vector<Weighted> kAssessmentOutcome = {
    {"Long term support", 55},
    {"Short term support to maximise independence", 10},
    {"Universal services / signposted to other services", 25},
    {"No services provided", 10}};
const std::vector<Weighted> kDelivery = {
    {"direct_payment", 25}, {"cassr_managed_pb", 30}, {"cassr_commissioned", 45}};
const std::vector<Weighted> kReviewOutcome = {
    {"No change in support", 60}, {"Support increased", 20}, {"Support reduced", 15},
    {"Support ended", 5}};
const std::vector<Weighted> kCarerRelationship = {
    {"Parent", 35}, {"Spouse or partner", 30}, {"Son or daughter", 15}, {"Sibling", 12},
    {"Friend", 8}};
const std::vector<Weighted> kCarerOutcome = {
    {"Support provided", 45}, {"Information and advice", 35}, {"No support needed", 20}};

constexpr char kPrimarySupportReason[] = "Mental Health Support";
constexpr char kLongTermCommunity[] = "Long term support: Community";
constexpr char kKeyWorkerRole[] = "Care coordinator";
// The person (by index) whose history holds the demo's planned re-detention.
constexpr int64_t kRedetainedIndex = 0;

// ---- Randomness: std::mt19937_64 is specified exactly; the std distributions are not, so
// the mapping to ranges is done here to keep output identical across standard libraries. ----

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  double Unit() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }
  // Uniform in [lo, hi]; lo when hi < lo.
  int Int(int lo, int hi) {
    if (hi <= lo) return lo;
    return lo + static_cast<int>(engine_() % static_cast<uint64_t>(hi - lo + 1));
  }
  template <class T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(engine_() % items.size())];
  }
  const char* Pick(const std::vector<Weighted>& items) {
    double total = 0;
    for (const auto& w : items) total += w.weight;
    double x = Unit() * total;
    for (const auto& w : items) {
      if (x < w.weight) return w.value;
      x -= w.weight;
    }
    return items.back().value;
  }

 private:
  std::mt19937_64 engine_;
};

// ---- One person's history ----

struct Referral {
  std::string id;
  int start;
  std::optional<int> end;
  std::string team;
  std::string area;
};

// Builds the events of one person, each with the instant it happened, then orders them.
class History {
 public:
  History(const Options& o, int64_t index, std::string nhs)
      : as_of_(o.as_of), nhs_(std::move(nhs)),
        prefix_("demo-" + std::to_string(o.seed) + "-" + std::to_string(index)) {}

  std::string Id(const char* kind) { return prefix_ + "-" + kind + std::to_string(++ids_[kind]); }

  std::string DateOf(int day) const { return icr::FormatDate(as_of_ + days(day)); }
  int64_t Seconds(int day, int second_of_day = 0) const {
    return (as_of_ + days(day)).time_since_epoch().count() * kDay + second_of_day;
  }

  // The day (relative to the as-of date) of an instant.
  int DayOf(int64_t at) const {
    const int64_t rel = at - Seconds(0);
    return static_cast<int>(rel / kDay - (rel % kDay < 0 ? 1 : 0));
  }

  // Adds an event built (tests/support/builders.h) with an empty id: Finish numbers them.
  Event& Add(int64_t at, Event e) {
    Touch(DayOf(at));
    items_.push_back({at, std::move(e)});
    return items_.back().event;
  }
  Event& AddOnDay(int day, Event e) { return Add(Seconds(day), std::move(e)); }

  // Records activity on `day` that is not the date of an event (e.g. an assessment's end).
  void Touch(int day) { last_day_ = std::max(last_day_, day); }
  int last_day() const { return last_day_; }
  size_t size() const { return items_.size(); }
  Event& at(size_t i) { return items_[i].event; }

  // Events from this instant on are sent after the import (DemoPerson::later).
  void LaterFrom(int64_t at) { later_from_ = at; }

  // Events in time order (ties keep the order they were added: causes before effects), then
  // numbered "demo-<seed>-<index>-<n>"; those from LaterFrom on go to `later`.
  std::vector<Event> Finish(std::vector<Event>* later) {
    std::stable_sort(items_.begin(), items_.end(),
                     [](const Item& a, const Item& b) { return a.at < b.at; });
    std::vector<Event> out;
    out.reserve(items_.size());
    int n = 0;
    for (auto& item : items_) {
      item.event.set_event_id(prefix_ + "-" + std::to_string(++n));
      (later_from_ && item.at >= *later_from_ ? *later : out).push_back(std::move(item.event));
    }
    return out;
  }

 private:
  struct Item {
    int64_t at;
    Event event;
  };
  Date as_of_;
  std::string nhs_;
  std::string prefix_;
  std::vector<Item> items_;
  std::map<std::string, int> ids_;
  int last_day_ = -100000;
  std::optional<int64_t> later_from_;
};

NameGroup GroupOf(const std::string& ethnicity, Rng& rng) {
  const char c = ethnicity[0];
  if (ethnicity == "B") return NameGroup::kIrish;
  if (ethnicity == "C") return NameGroup::kOtherWhite;
  if (c >= 'H' && c <= 'L') return NameGroup::kSouthAsian;
  if (c == 'M' || c == 'N' || c == 'P') return NameGroup::kBlack;
  if (ethnicity == "R") return NameGroup::kChinese;
  if (ethnicity == "S") return NameGroup::kOther;
  if (c >= 'D' && c <= 'G') {  // mixed heritage: either parent's naming
    return rng.Pick(std::vector<NameGroup>{NameGroup::kGeneral, NameGroup::kGeneral,
                                           NameGroup::kBlack, NameGroup::kSouthAsian});
  }
  return NameGroup::kGeneral;
}

void Name(icr::v1::Person& p, NameGroup group, bool male, Rng& rng) {
  const std::vector<std::string>* given = male ? &kMaleGeneral : &kFemaleGeneral;
  const std::vector<std::string>* family = &kFamilyGeneral;
  switch (group) {
    case NameGroup::kIrish: family = &kFamilyIrish; break;
    case NameGroup::kOtherWhite: family = &kFamilyOtherWhite; break;
    case NameGroup::kSouthAsian:
      given = male ? &kMaleSouthAsian : &kFemaleSouthAsian;
      family = &kFamilySouthAsian;
      break;
    case NameGroup::kBlack:
      given = male ? &kMaleBlack : &kFemaleBlack;
      family = &kFamilyBlack;
      break;
    case NameGroup::kChinese:
      given = male ? &kMaleChinese : &kFemaleChinese;
      family = &kFamilyChinese;
      break;
    case NameGroup::kOther: family = &kFamilyOther; break;
    case NameGroup::kGeneral: break;
  }
  p.set_given_name(rng.Pick(*given));
  p.set_family_name(rng.Pick(*family));
}

std::string Postcode(const Placement& pl, Rng& rng) {
  static const char kInwardLetters[] = "ABDEFGHJLNPQRSTUWXYZ";  // no C, I, K, M, O, V
  // One draw per statement: the operands of + are evaluated in an unspecified order.
  std::string pc = rng.Pick(pl.postcode_districts);
  pc += " " + std::to_string(rng.Int(1, 9));
  pc += kInwardLetters[rng.Int(0, 19)];
  pc += kInwardLetters[rng.Int(0, 19)];
  return pc;
}

// Date of birth for someone `age` on the as-of date.
Date BirthDate(Date as_of, int age, Rng& rng) {
  std::chrono::year_month_day ymd{as_of};
  const std::chrono::year year = ymd.year() - std::chrono::years{age};
  std::chrono::year_month_day birthday{year, ymd.month(), ymd.day()};
  if (!birthday.ok()) birthday = year / ymd.month() / std::chrono::last;  // 29 Feb
  return Date{birthday} - days(rng.Int(10, 360));
}

class PersonBuilder {
 public:
  PersonBuilder(const Options& o, const Placement& pl, int64_t index, const std::string& nhs,
                Rng& rng)
      : o_(o), pl_(pl), rng_(rng), index_(index), nhs_(nhs), h_(o, index, nhs) {}

  DemoPerson Build();

 private:
  void Demographics(icr::v1::Person& p);
  void Referrals();
  void OpenReferral(Referral& r);
  void RoutineContacts(const Referral& r);
  void Admissions(const Referral& r, double chance);
  // One spell from `day`; returns the discharge day, or nullopt while still in hospital.
  // `section`: detained under this legal status code (otherwise by chance).
  std::optional<int> Admission(const Referral& r, int day, const char* section = nullptr);
  void Detention(const std::string& spell, int64_t admitted, std::optional<int64_t> discharged,
                 int los, const char* section);
  void Redetained(const Referral& r);
  void DetentionSpan(const std::string& code, int64_t start, std::optional<int64_t> end,
                     const std::string& spell, const char* end_reason);
  void FollowUp(const Referral& r, int discharge_day);
  void KeyWorkers(const Referral& r);
  void Statuses();
  void CareAct();
  void Carer();
  void Death();

  int RecentOrOlderDay();
  std::string StaffName() {
    std::string name = rng_.Pick(kStaffGiven);
    return name + " " + rng_.Pick(kStaffFamily);
  }

  const Options& o_;
  const Placement& pl_;
  Rng& rng_;
  int64_t index_;
  std::string nhs_;
  History h_;
  icr::v1::Person person_;
  int age_ = 0;
  bool older_ = false;
  int first_day_ = 0;  // first referral
  std::vector<Referral> referrals_;
  bool in_hospital_ = false;
  // Things a death closes: open key worker assignments and services (event index).
  std::vector<std::pair<std::string, int>> open_key_workers_;  // assignment id, start day
  std::optional<size_t> open_service_;
};

void PersonBuilder::Demographics(icr::v1::Person& p) {
  p.set_nhs_number(nhs_);
  double total = 0;
  for (const auto& b : kAges) total += b.weight;
  double x = rng_.Unit() * total;
  const AgeBand* band = &kAges.back();
  for (const auto& b : kAges) {
    if (x < b.weight) {
      band = &b;
      break;
    }
    x -= b.weight;
  }
  age_ = rng_.Int(band->lo, band->hi);
  if (index_ == kRedetainedIndex) age_ = std::max(age_, 26);  // room for two years of history
  older_ = age_ >= 65;
  const bool male = rng_.Chance(0.49);
  p.set_sex(male ? "1" : "2");
  p.set_ethnic_category(rng_.Pick(kEthnicity));
  Name(p, GroupOf(p.ethnic_category(), rng_), male, rng_);
  p.set_date_of_birth(icr::FormatDate(BirthDate(o_.as_of, age_, rng_)));
  p.set_postcode(Postcode(pl_, rng_));
  p.set_council_code(pl_.council);
  p.set_icb_code(pl_.icb);
  auto* id = p.add_local_identifiers();
  id->set_system(pl_.trust + ":EPR");
  char value[24];
  std::snprintf(value, sizeof value, "DEMO%07lld", static_cast<long long>(index_));
  id->set_value(value);
}

void PersonBuilder::OpenReferral(Referral& r) {
  auto& e = h_.AddOnDay(r.start, build::ReferralOpened(nhs_, "", r.id, pl_.trust,
                                                       h_.DateOf(r.start), r.area, r.team));
  e.mutable_referral_opened()->set_source_of_referral(rng_.Pick(kReferralSource));
  if (r.end) {
    h_.AddOnDay(*r.end,
                build::ReferralClosed(nhs_, "", r.id, h_.DateOf(*r.end), rng_.Pick(kCloseReason)));
  }
}

void PersonBuilder::Referrals() {
  // Adults only: the first referral is on or after the 18th birthday.
  const Date dob = *icr::ParseDate(person_.date_of_birth());
  const Date adult = Date{std::chrono::year_month_day{dob} + std::chrono::years{18}};
  const int adult_day = static_cast<int>((adult - o_.as_of).count()) + 1;
  first_day_ = rng_.Int(std::max(-kHistoryDays, adult_day), -5);
  const bool redetained = index_ == kRedetainedIndex;
  if (redetained) first_day_ = std::min(first_day_, -700);

  auto team = [&]() -> std::string {
    if (!older_ && age_ < 36 && rng_.Chance(0.25)) return "A14";
    return rng_.Chance(0.6) ? "C02" : "A06";
  };
  Referral first{h_.Id("r"), first_day_, std::nullopt, team(), older_ ? "older_adult" : "adult_mh"};
  if (!redetained && first.start <= -90 && rng_.Chance(0.35)) {
    first.end = rng_.Int(first.start + 60, std::min(first.start + 600, -1));
  }
  referrals_.push_back(first);
  if (first.end && *first.end + 30 <= -5 && rng_.Chance(0.5)) {
    Referral second{h_.Id("r"), rng_.Int(*first.end + 30, -5), std::nullopt, team(),
                    first.area};
    if (second.start <= -90 && rng_.Chance(0.15)) {
      second.end = rng_.Int(second.start + 60, std::min(second.start + 400, -1));
    }
    referrals_.push_back(second);
  }
  for (size_t i = 0; i < referrals_.size(); ++i) {
    Referral& r = referrals_[i];
    OpenReferral(r);
    RoutineContacts(r);
    KeyWorkers(r);
    if (redetained && i == 0) {
      Redetained(r);
    } else {
      Admissions(r, i == 0 ? 0.22 : 0.12);
    }
  }
}

void PersonBuilder::RoutineContacts(const Referral& r) {
  const int from = r.start + 3;
  const int to = (r.end ? *r.end : 0) - 1;
  if (to < from) return;
  const int n = std::min(rng_.Int(2, 8), (to - from) / 14 + 1);
  std::vector<int> contact_days;
  for (int i = 0; i < n; ++i) contact_days.push_back(rng_.Int(from, to));
  std::sort(contact_days.begin(), contact_days.end());  // ids in date order
  for (int day : contact_days) {
    const std::string id = h_.Id("c");
    // One draw per statement, in this order: the demo's history depends on it.
    const bool attended = rng_.Chance(0.85);
    const char* status = attended ? (rng_.Chance(0.9) ? "5" : "6") : (rng_.Chance(0.6) ? "3" : "2");
    const std::string mechanism = rng_.Pick(kMechanism);
    auto* c = h_.AddOnDay(day, build::CareContact(nhs_, "", id, h_.DateOf(day), mechanism))
                  .mutable_care_contact();
    c->set_referral_id(r.id);
    c->set_attended(attended);
    c->set_attend_status(status);
    c->set_team_type(r.team);
  }
}

void PersonBuilder::Admissions(const Referral& r, double chance) {
  if (!rng_.Chance(chance)) return;
  // A spell falls inside the referral and ends at least a week before the referral closes.
  const int last_admission = r.end ? *r.end - 14 : -2;
  if (last_admission < r.start + 7) return;
  auto discharged = Admission(r, rng_.Int(r.start + 7, last_admission));
  if (!discharged || !rng_.Chance(0.2)) return;  // readmission
  const int from = *discharged + 7;
  const int to = std::min(*discharged + 200, last_admission);
  if (to >= from) Admission(r, rng_.Int(from, to));
}

// The population's one planned re-detention (domain-rules 2.7): detained under section 3,
// discharged home, then detained under section 3 again and discharged, so the S117 register
// supersedes the first entitlement with a second. The second stay is sent after the import.
void PersonBuilder::Redetained(const Referral& r) {
  auto first = Admission(r, rng_.Int(r.start + 7, r.start + 60), "03");
  if (!first) return;
  const int again = rng_.Int(*first + 90, std::min(*first + 300, -150));
  h_.LaterFrom(h_.Seconds(again));  // the register has taken in the first stay by then
  Admission(r, again, "03");
}

std::optional<int> PersonBuilder::Admission(const Referral& r, int day, const char* section) {
  const std::string spell = h_.Id("s");
  const int64_t admitted = h_.Seconds(day, rng_.Int(0, 86399));
  const char* bed =
      older_ ? (rng_.Chance(0.8) ? "201" : "200") : (rng_.Chance(0.85) ? "200" : "202");
  auto* a = h_.Add(admitted, build::Admission(nhs_, "", spell, pl_.trust, admitted, bed))
                .mutable_admission();
  a->set_admission_method(rng_.Pick(kAdmissionMethod));
  a->set_referral_id(r.id);

  const double x = rng_.Unit();
  int los = x < 0.6 ? rng_.Int(5, 30) : x < 0.9 ? rng_.Int(31, 60) : rng_.Int(61, 120);
  if (r.end && day + los > *r.end - 7) los = *r.end - 7 - day;
  std::optional<int64_t> discharged;
  if (day + los <= -1) discharged = h_.Seconds(day + los, rng_.Int(9 * 3600, 17 * 3600));
  if (section || rng_.Chance(0.55)) Detention(spell, admitted, discharged, los, section);
  if (!discharged) {
    in_hospital_ = true;
    return std::nullopt;
  }
  const std::string destination = rng_.Pick(kDestination);
  h_.Add(*discharged, build::Discharge(nhs_, "", spell, *discharged, destination));
  const int discharge_day = h_.DayOf(*discharged);
  // Transfers to another MH ward (53) and to prison (40) are followed up elsewhere.
  if (destination == "19") FollowUp(r, discharge_day);
  return discharge_day;
}

void PersonBuilder::DetentionSpan(const std::string& code, int64_t start,
                                  std::optional<int64_t> end, const std::string& spell,
                                  const char* end_reason) {
  const std::string id = h_.Id("d");
  h_.Add(start, build::DetentionStart(nhs_, "", id, code, pl_.trust, start))
      .mutable_detention_start()
      ->set_spell_id(spell);
  // A detention whose end would be on or after the as-of date is still in force.
  if (!end || *end >= h_.Seconds(0)) return;
  h_.Add(*end, build::DetentionEnd(nhs_, "", id, *end, end_reason));
}

void PersonBuilder::Detention(const std::string& spell, int64_t admitted,
                              std::optional<int64_t> discharged, int los, const char* section) {
  // The detention starts at admission and ends at or before discharge.
  auto cap = [&](int64_t t) -> std::optional<int64_t> {
    if (discharged && t > *discharged) return discharged;
    return t;
  };
  const std::string code = section ? section : rng_.Pick(kSection);
  if (code == "04") {
    return DetentionSpan(code, admitted, cap(admitted + rng_.Int(6, 72) * 3600), spell, "Section expired");
  }
  if (code == "20") {
    return DetentionSpan(code, admitted, cap(admitted + rng_.Int(4, 24) * 3600), spell, "Assessment completed");
  }
  if (code == "02") {
    const int64_t switch_at = admitted + rng_.Int(14, 21) * kDay;
    if (los > 21 && switch_at < h_.Seconds(0) && rng_.Chance(0.3)) {
      // Assessment, then treatment: the s2 becomes a s3 within its 28 days.
      DetentionSpan("02", admitted, switch_at, spell, "Converted to section 3");
      return DetentionSpan("03", switch_at, discharged, spell, "Discharged from section");
    }
    return DetentionSpan(code, admitted, cap(admitted + rng_.Int(5, 28) * kDay), spell,
                         "Discharged from section");
  }
  // Treatment sections (03, 10, 37): until discharge, or regraded to informal before it.
  if (discharged && los >= 4 && rng_.Chance(0.3)) {
    return DetentionSpan(code, admitted, admitted + rng_.Int(los / 2, los - 1) * kDay, spell,
                         "Regraded to informal");
  }
  DetentionSpan(code, admitted, discharged, spell, "Discharged from section");
}

void PersonBuilder::FollowUp(const Referral& r, int discharge_day) {
  // Most within 72 hours (days 1-3), some late (days 5-10), some never.
  const double x = rng_.Unit();
  int day;
  if (x < 0.75) {
    day = discharge_day + rng_.Int(1, 3);
  } else if (x < 0.87) {
    day = discharge_day + rng_.Int(5, 10);
  } else {
    return;
  }
  if (day > -1) return;  // not happened yet
  const std::string id = h_.Id("c");
  auto* c =
      h_.AddOnDay(day, build::CareContact(nhs_, "", id, h_.DateOf(day), rng_.Pick(kMechanism)))
          .mutable_care_contact();
  c->set_referral_id(r.id);
  c->set_team_type(r.team);
}

void PersonBuilder::KeyWorkers(const Referral& r) {
  if (!rng_.Chance(0.85)) return;
  const int last = r.end ? *r.end : -1;
  int start = r.start + rng_.Int(3, 28);
  if (start > last) return;
  auto assign = [&](int day) {
    const std::string id = h_.Id("k");
    const std::string name = StaffName();
    // Most care coordinators are trust staff; some are council social workers.
    const std::string& org = rng_.Chance(0.75) ? pl_.trust : pl_.council;
    h_.AddOnDay(day, build::KeyWorkerAssigned(nhs_, "", id, build::Staff(name, kKeyWorkerRole, org),
                                              h_.DateOf(day)));
    return id;
  };
  auto end = [&](const std::string& id, int day) {
    h_.AddOnDay(day, build::KeyWorkerEnded(nhs_, "", id, h_.DateOf(day)));
  };
  std::string id = assign(start);
  if (start + 60 <= last - 1 && rng_.Chance(0.2)) {  // a change of key worker
    const int change = rng_.Int(start + 60, last - 1);
    end(id, change);
    start = change;
    id = assign(change);
  }
  if (r.end) {
    end(id, *r.end);
  } else {
    open_key_workers_.emplace_back(id, start);
  }
}

// Mostly within the last 12 months, sometimes older (never before the first referral).
int PersonBuilder::RecentOrOlderDay() {
  if (first_day_ <= -366 && rng_.Chance(0.2)) return rng_.Int(first_day_, -366);
  return rng_.Int(std::max(-365, first_day_), -1);
}

void PersonBuilder::Statuses() {
  const auto& employment = age_ >= 66 ? kEmploymentOlder : kEmploymentWorkingAge;
  auto employment_status = [&](int day) {
    auto* s =
        h_.AddOnDay(day, build::EmploymentStatus(nhs_, "", rng_.Pick(employment), h_.DateOf(day)))
            .mutable_employment_status();
    if (s->code() == "01") s->set_weekly_hours(rng_.Int(8, 40));
    if (s->code() == "07") s->set_weekly_hours(rng_.Int(2, 16));
  };
  auto accommodation_status = [&](int day) {
    h_.AddOnDay(day,
                build::AccommodationStatus(nhs_, "", rng_.Pick(kAccommodation), h_.DateOf(day)));
  };
  if (rng_.Chance(0.92)) {
    const int latest = RecentOrOlderDay();
    if (latest > first_day_ + 30 && rng_.Chance(0.4)) employment_status(first_day_);
    employment_status(latest);
  }
  if (rng_.Chance(0.9)) {
    const int latest = RecentOrOlderDay();
    if (latest > first_day_ + 30 && rng_.Chance(0.4)) accommodation_status(first_day_);
    accommodation_status(latest);
  }
}

void PersonBuilder::CareAct() {
  if (!rng_.Chance(older_ ? 0.45 : 0.3) || first_day_ > -21) return;
  auto event = [&](icr::v1::CareActEvent::Kind kind, int start) -> icr::v1::CareActEvent& {
    auto* c = h_.AddOnDay(start, build::CareAct(nhs_, "", h_.Id("ca"), kind, pl_.council,
                                                h_.DateOf(start)))
                  .mutable_care_act();
    c->set_primary_support_reason(kPrimarySupportReason);
    return *c;
  };
  const int request = rng_.Int(first_day_, -21);
  auto& req = event(icr::v1::CareActEvent::REQUEST, request);
  req.set_end_date(h_.DateOf(request));
  if (rng_.Chance(0.15)) {
    req.set_outcome("Universal services / signposted to other services");
    return;
  }
  req.set_outcome("Assessment");

  const int start = request + rng_.Int(3, 21);
  if (start > -1) return;
  auto& assessment = event(icr::v1::CareActEvent::ASSESSMENT, start);
  assessment.set_assessment_type(rng_.Chance(0.8) ? "long_term" : "short_term");
  const int done = start + rng_.Int(7, 42);
  if (done > -1) return;  // still in progress
  assessment.set_end_date(h_.DateOf(done));
  h_.Touch(done);
  const std::string outcome = rng_.Pick(kAssessmentOutcome);
  assessment.set_outcome(outcome);
  if (outcome != "Long term support") return;

  const int from = done + rng_.Int(7, 42);
  if (from > -1) return;
  const size_t service_index = h_.size();
  auto& service = event(icr::v1::CareActEvent::SERVICE, from);
  service.set_service_type(kLongTermCommunity);
  service.set_delivery_mechanism(rng_.Pick(kDelivery));
  service.set_weekly_cost_pence(rng_.Int(120, 1200) * 50);
  if (from + 60 <= -1 && rng_.Chance(0.2)) {
    const int end = rng_.Int(from + 60, -1);
    service.set_end_date(h_.DateOf(end));
    h_.Touch(end);
    return;
  }
  open_service_ = service_index;
  const int review = from + rng_.Int(300, 380);
  if (review <= -1) {
    auto& r = event(icr::v1::CareActEvent::REVIEW, review);
    r.set_end_date(h_.DateOf(review));
    r.set_outcome(rng_.Pick(kReviewOutcome));
    r.set_service_type(kLongTermCommunity);
  }
}

void PersonBuilder::Carer() {
  if (!rng_.Chance(0.15) || first_day_ > -10) return;
  const int offered = rng_.Int(first_day_, -10);
  const std::string id = h_.Id("cr");
  const std::string relationship = rng_.Pick(kCarerRelationship);
  const bool male = rng_.Chance(0.4);
  const std::string given = rng_.Pick(male ? kMaleGeneral : kFemaleGeneral);
  const std::string name =
      given + " " + (relationship == "Friend" ? rng_.Pick(kFamilyGeneral) : person_.family_name());
  auto* c = h_.AddOnDay(offered,
                        build::CarerAssessment(nhs_, "", id, name, pl_.council, h_.DateOf(offered)))
                .mutable_carer_assessment();
  c->set_relationship(relationship);
  const int completed = offered + rng_.Int(7, 60);
  if (completed <= -1 && rng_.Chance(0.75)) {
    c->set_completed_date(h_.DateOf(completed));
    h_.Touch(completed);
    c->set_outcome(rng_.Pick(kCarerOutcome));
  } else if (rng_.Chance(0.3)) {
    c->set_outcome("Declined");
  }
}

void PersonBuilder::Death() {
  if (in_hospital_ || !rng_.Chance(older_ ? 0.05 : 0.012)) return;
  const int last = h_.last_day();
  if (last > -40) return;
  const int day = rng_.Int(last + 10, std::min(last + 200, -1));
  // What the death ends: open referrals, key worker assignments, services.
  for (const auto& r : referrals_) {
    if (!r.end) h_.AddOnDay(day, build::ReferralClosed(nhs_, "", r.id, h_.DateOf(day), "Died"));
  }
  for (const auto& [id, start] : open_key_workers_) {
    h_.AddOnDay(day, build::KeyWorkerEnded(nhs_, "", id, h_.DateOf(day)));
  }
  if (open_service_) h_.at(*open_service_).mutable_care_act()->set_end_date(h_.DateOf(day));
  h_.AddOnDay(day, build::Death(nhs_, "", h_.DateOf(day)));
}

DemoPerson PersonBuilder::Build() {
  Demographics(person_);
  Referrals();
  Statuses();
  CareAct();
  Carer();
  Death();
  DemoPerson out;
  out.person = person_;
  out.events = h_.Finish(&out.later);
  return out;
}

}  // namespace

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

const std::vector<Placement>& AllPlacements() { return kPlacements; }

PersonFacts FactsOf(const DemoPerson& person) {
  const auto& p = person.person;
  PersonFacts f;
  f.nhs = p.nhs_number();
  f.given_name = p.given_name();
  f.family_name = p.family_name();
  f.icb = p.icb_code();
  f.council = p.council_code();
  f.trust = person.trust;
  std::set<std::string> referrals;
  std::map<std::string, icr::v1::StaffRef> key_workers;
  for (const auto& e : person.events) {
    if (e.has_referral_opened()) referrals.insert(e.referral_opened().referral_id());
    if (e.has_referral_closed()) referrals.erase(e.referral_closed().referral_id());
    if (e.has_key_worker_assigned()) {
      key_workers[e.key_worker_assigned().assignment_id()] = e.key_worker_assigned().key_worker();
    }
    if (e.has_key_worker_ended()) key_workers.erase(e.key_worker_ended().assignment_id());
    if (e.has_detention_start())
      f.detention_codes.push_back(e.detention_start().legal_status_code());
    if (e.has_death()) f.alive = false;
  }
  for (const auto& e : person.later) {
    if (e.has_detention_start()) {
      f.later_detention_codes.push_back(e.detention_start().legal_status_code());
      f.later_detention_ids.push_back(e.detention_start().detention_id());
    }
    if (e.has_death()) f.alive = false;
  }
  f.open_referral = !referrals.empty();
  if (!key_workers.empty()) f.key_worker = key_workers.rbegin()->second;
  return f;
}

std::optional<std::string> NhsNumberFromStem(int64_t stem) {
  std::string digits = std::to_string(stem);
  if (digits.size() != 9) return std::nullopt;
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (digits[i] - '0') * (10 - i);
  int check = 11 - sum % 11;
  if (check == 11) check = 0;
  if (check == 10) return std::nullopt;
  return digits + static_cast<char>('0' + check);
}

int64_t Capacity() {
  static const int64_t kCapacity = [] {
    int64_t n = 0;
    for (int64_t stem = kFirstStem; stem <= kLastStem; ++stem) n += NhsNumberFromStem(stem) ? 1 : 0;
    return n;
  }();
  return kCapacity;
}

Date DefaultAsOf() {
  const std::chrono::year_month_day today{icr::Today()};
  return Date{today.year() / today.month() / std::chrono::day{1}};
}

absl::StatusOr<Generator> Generator::Create(const Options& options) {
  if (options.people < 0) return icr::InvalidField("--people", "must not be negative");
  if (options.people > Capacity()) {
    return icr::InvalidField("--people", "at most " + std::to_string(Capacity()) +
                                             " people fit in the 999 test range of NHS numbers");
  }
  if (options.as_of > icr::Today()) return icr::InvalidField("--as-of", "is in the future");
  std::vector<Placement> chosen;
  for (const auto& p : kPlacements) {
    if (options.org.empty() || options.org == p.trust || options.org == p.icb ||
        options.org == p.council) {
      chosen.push_back(p);
    }
  }
  if (chosen.empty()) {
    std::string known;
    for (const auto& p : kPlacements) {
      for (const auto* code : {&p.trust, &p.icb, &p.council}) {
        if (known.find(*code) == std::string::npos) known += (known.empty() ? "" : ", ") + *code;
      }
    }
    return icr::InvalidField("--org", "'" + options.org + "' is not a demo organisation (" +
                                          known + ")");
  }
  return Generator(options, std::move(chosen));
}

bool Generator::Next(DemoPerson* out) {
  if (index_ >= options_.people) return false;
  std::optional<std::string> nhs;
  while (!(nhs = NhsNumberFromStem(next_stem_++))) {
  }
  *out = MakePerson(options_, placements_, index_++, *nhs);
  return true;
}

DemoPerson MakePerson(const Options& options, const std::vector<Placement>& placements,
                      int64_t index, const std::string& nhs_number) {
  Rng rng(SplitMix64(options.seed ^ SplitMix64(static_cast<uint64_t>(index))));
  const Placement& placement = rng.Pick(placements);
  PersonBuilder builder(options, placement, index, nhs_number, rng);
  DemoPerson out = builder.Build();
  out.trust = placement.trust;
  return out;
}

}  // namespace icrctl::demo
