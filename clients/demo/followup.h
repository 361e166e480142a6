// What `demo seed` does after ImportEvents: the care plans and S117 register work that people
// record by hand. It waits for the S117 feed follower to register the seeded detentions, then,
// choosing people deterministically from the seed and their NHS numbers, it
//   - creates care plans: S117 aftercare plans for people with an ACTIVE entitlement and NHS
//     PCSP / Care Act plans for others in services; some agreed (with both sign-offs where the
//     plan type needs them), some left DRAFT, some with a review whose next date has passed;
//   - adds aftercare service lines (joint 50:50, council only, one direct payment), records
//     joint reviews for some entitlements (the rest stay overdue or stale), marks one ordinary
//     residence DISPUTED, and completes one joint discharge.
// Every step reads the current state first, so a second run finds the work done and changes
// nothing. Each step is taken by an organisation the write rule allows: the person's trust (its
// system principal) for care plans, service lines and reviews, the responsible council and ICB
// (s117_officer) for the social care sign-off, end decisions and disputes. Their tokens come
// from a tokens file (Principals); without one everything is done with the caller's token and
// the steps only councils and ICBs may take are skipped and said so. What it knows of the people
// comes from the seeding run (Seeded); what it knows of the register, from the register's RPCs.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "clients/demo/population.h"
#include "clients/demo/principals.h"
#include "clients/icrctl/cli.h"

namespace icrctl::demo {

struct FollowupOptions {
  Options population;  // the options the imported population was generated with
  std::chrono::seconds register_timeout{300};
};

// The state after the follow-up, and the writes this run made.
struct FollowupSummary {
  // The register as the people's trusts see it.
  std::map<std::string, int> entitlements_by_state;
  int reviews_overdue = 0;  // as of today
  int stale = 0;
  int with_open_services = 0;
  int reviewed = 0;  // with a recorded review
  int disputed = 0;
  // Care plans.
  std::map<std::string, int> plans_by_status;
  int s117_plans = 0;
  int plans_review_overdue = 0;  // next review date before today
  // Writes made by this run.
  std::map<std::string, int> writes;
  std::vector<std::string> notes;  // steps skipped, and why
};

// What the seeding run sent: its people by NHS number, and the events to record after the import.
struct Seeded {
  std::map<std::string, PersonFacts> people;
  std::vector<icr::v1::Event> later;
};

// Runs the follow-up as `who`. Throws Failure when the server does not
// serve the services, the register does not settle in time, or steps fail (after the others ran).
FollowupSummary RunFollowup(Principals& who, const FollowupOptions& options, const Seeded& seeded);

}  // namespace icrctl::demo
