// The synthetic demo population: people in the 999 test range of NHS numbers with 24+ months of
// mental health and social care history, generated one person at a time. Pure and
// deterministic: person i depends only on the seed, i and the as-of date, so a rerun sends
// identical items (same event ids and content, hence DUPLICATE on the server). The first person
// (index 0) is always detained under section 3 twice with a discharge home between, so the
// S117 register shows a re-detention superseding an entitlement (its second stay is in `later`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "icr/v1/record.pb.h"
#include "services/common/validation.h"

namespace icrctl::demo {

// Where a person lives and is treated: a trust, its ICB and one council in that ICB.
struct Placement {
  std::string trust;
  std::string icb;
  std::string council;
  std::vector<std::string> postcode_districts;
};

struct Options {
  uint64_t seed = 1;
  int64_t people = 0;
  std::string org;   // only people of this trust, ICB or council; empty: every placement
  icr::Date as_of;   // all activity is before this date
};

struct DemoPerson {
  icr::v1::Person person;
  std::string trust;  // the trust that records the person and their events (Placement::trust)
  std::vector<icr::v1::Event> events;  // in the order to send them, a death last
  // Events to record after the import, once the S117 register has taken it in (the second
  // detention of the re-detained person): recorded together with the first stay, the register
  // would date leaving hospital from the last discharge and miss the re-detention.
  std::vector<icr::v1::Event> later;
};

// What the follow-up needs to know of a person it seeded, taken from the items sent.
struct PersonFacts {
  std::string nhs, given_name, family_name, trust, icb, council;
  bool alive = true;
  bool open_referral = false;
  std::vector<std::string> detention_codes;        // legal status codes of the imported detentions
  std::vector<std::string> later_detention_codes;  // of those recorded after the import
  std::vector<std::string> later_detention_ids;    // and their detention ids
  icr::v1::StaffRef key_worker;                    // the open assignment, if any
};
PersonFacts FactsOf(const DemoPerson& person);

// Every placement the demo knows (real ODS and GSS codes from reference/organisations.csv).
const std::vector<Placement>& AllPlacements();

// The SplitMix64 mixing function: a well-spread 64-bit value from any 64-bit input.
uint64_t SplitMix64(uint64_t x);

// How many valid NHS numbers the test range 999 000 001x..999 999 999x holds.
int64_t Capacity();

// The NHS number with 9-digit stem `stem` and its Modulus 11 check digit; nullopt when the
// check digit would be 10 (never issued).
std::optional<std::string> NhsNumberFromStem(int64_t stem);

// The default as-of date: the first day of the current month, so reruns within a month send
// the same history.
icr::Date DefaultAsOf();

class Generator {
 public:
  // INVALID_ARGUMENT for an unknown org, too many people or an as-of date in the future.
  static absl::StatusOr<Generator> Create(const Options& options);

  // The next person and their history; false after options.people people.
  bool Next(DemoPerson* out);

 private:
  Generator(Options options, std::vector<Placement> placements)
      : options_(std::move(options)), placements_(std::move(placements)) {}

  Options options_;
  std::vector<Placement> placements_;
  int64_t index_ = 0;
  int64_t next_stem_ = 999000001;  // the first stem of the 999 test range used
};

// Person `index` with NHS number `nhs_number`, placed in one of `placements`.
DemoPerson MakePerson(const Options& options, const std::vector<Placement>& placements,
                      int64_t index, const std::string& nhs_number);

}  // namespace icrctl::demo
