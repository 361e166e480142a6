// Builders of record messages: a valid person, and one event of each kind with the fields every
// such event needs (the rest are left for the caller to set). Each event builder takes the
// person's NHS number and the event id first; instants are seconds since the epoch and dates
// YYYY-MM-DD. Shared by the integration tests, icr-bench and the demo population, so a change to
// what an event must carry is made here once.
#pragma once

#include <cstdint>
#include <string>

#include "icr/v1/careplan.pb.h"
#include "icr/v1/record.pb.h"

namespace icr::build {

using icr::v1::Event;

// A valid person with the given NHS number, living in Leeds (council E08000035, ICB QWO).
icr::v1::Person MakePerson(const std::string& nhs_number);

// An event with only its id and NHS number set.
Event NewEvent(const std::string& nhs, const std::string& event_id);

// Admission to a stay (bed type 200: adult acute mental health).
Event Admission(const std::string& nhs, const std::string& event_id, const std::string& spell_id,
                const std::string& provider, int64_t admitted_at,
                const std::string& bed_type = "200");
// Discharge from a stay (method 1: clinical discharge; destination 19: usual place of residence).
Event Discharge(const std::string& nhs, const std::string& event_id, const std::string& spell_id,
                int64_t discharged_at, const std::string& destination = "19");
// Start of a detention under `legal_status_code` (MHSDS: 02, 03, ...).
Event DetentionStart(const std::string& nhs, const std::string& event_id,
                     const std::string& detention_id, const std::string& legal_status_code,
                     const std::string& provider, int64_t started_at);
Event DetentionEnd(const std::string& nhs, const std::string& event_id,
                   const std::string& detention_id, int64_t ended_at,
                   const std::string& end_reason = "");
// A referral to an adult community mental health team (team type C02) by default.
Event ReferralOpened(const std::string& nhs, const std::string& event_id,
                     const std::string& referral_id, const std::string& provider,
                     const std::string& received_date, const std::string& service_area = "adult_mh",
                     const std::string& team_type = "C02");
Event ReferralClosed(const std::string& nhs, const std::string& event_id,
                     const std::string& referral_id, const std::string& closed_date,
                     const std::string& reason = "");
// An attended contact (attend status 5) by `mechanism` (01: face to face).
Event CareContact(const std::string& nhs, const std::string& event_id,
                  const std::string& contact_id, const std::string& contact_date,
                  const std::string& mechanism = "01");
Event Death(const std::string& nhs, const std::string& event_id, const std::string& date_of_death);
Event EmploymentStatus(const std::string& nhs, const std::string& event_id, const std::string& code,
                       const std::string& recorded_date);
Event AccommodationStatus(const std::string& nhs, const std::string& event_id,
                          const std::string& code, const std::string& recorded_date);
Event KeyWorkerAssigned(const std::string& nhs, const std::string& event_id,
                        const std::string& assignment_id, const icr::v1::StaffRef& key_worker,
                        const std::string& start_date);
Event KeyWorkerEnded(const std::string& nhs, const std::string& event_id,
                     const std::string& assignment_id, const std::string& end_date);
// A Care Act event of `kind` recorded by `council`.
Event CareAct(const std::string& nhs, const std::string& event_id, const std::string& care_act_id,
              icr::v1::CareActEvent::Kind kind, const std::string& council,
              const std::string& start_date);
// A carer's assessment offered by `council`.
Event CarerAssessment(const std::string& nhs, const std::string& event_id,
                      const std::string& carer_assessment_id, const std::string& carer_name,
                      const std::string& council, const std::string& offered_date);

// A staff member (key worker, reviewer) by name, role and organisation.
icr::v1::StaffRef Staff(const std::string& name, const std::string& role,
                        const std::string& organisation_code);

// A complete care plan as a client sends it: the NHS PCSP and Care Act plan (with an eligible
// need, a budget and a carer), optionally the S117 aftercare plan, its key worker at
// key_worker_org and its next review on next_review_date.
icr::v1::CarePlan CarePlanContent(bool s117, const std::string& key_worker_org,
                                  const std::string& next_review_date);

}  // namespace icr::build
