#include "tests/support/builders.h"

#include <google/protobuf/util/json_util.h>

namespace icr::build {

icr::v1::Person MakePerson(const std::string& nhs_number) {
  icr::v1::Person p;
  p.set_nhs_number(nhs_number);
  p.set_family_name("Testperson");
  p.set_given_name("Sam");
  p.set_date_of_birth("1980-05-17");
  p.set_sex("2");
  p.set_ethnic_category("A");
  p.set_postcode("LS1 4AP");
  p.set_council_code("E08000035");
  p.set_icb_code("QWO");
  return p;
}

Event NewEvent(const std::string& nhs, const std::string& event_id) {
  Event e;
  e.set_event_id(event_id);
  e.set_nhs_number(nhs);
  return e;
}

Event Admission(const std::string& nhs, const std::string& event_id, const std::string& spell_id,
                const std::string& provider, int64_t admitted_at, const std::string& bed_type) {
  Event e = NewEvent(nhs, event_id);
  auto* a = e.mutable_admission();
  a->set_spell_id(spell_id);
  a->set_provider_code(provider);
  a->mutable_admitted_at()->set_seconds(admitted_at);
  a->set_bed_type(bed_type);
  return e;
}

Event Discharge(const std::string& nhs, const std::string& event_id, const std::string& spell_id,
                int64_t discharged_at, const std::string& destination) {
  Event e = NewEvent(nhs, event_id);
  auto* d = e.mutable_discharge();
  d->set_spell_id(spell_id);
  d->mutable_discharged_at()->set_seconds(discharged_at);
  d->set_discharge_method("1");
  d->set_discharge_destination(destination);
  return e;
}

Event DetentionStart(const std::string& nhs, const std::string& event_id,
                     const std::string& detention_id, const std::string& legal_status_code,
                     const std::string& provider, int64_t started_at) {
  Event e = NewEvent(nhs, event_id);
  auto* d = e.mutable_detention_start();
  d->set_detention_id(detention_id);
  d->set_legal_status_code(legal_status_code);
  d->set_provider_code(provider);
  d->mutable_started_at()->set_seconds(started_at);
  return e;
}

Event DetentionEnd(const std::string& nhs, const std::string& event_id,
                   const std::string& detention_id, int64_t ended_at,
                   const std::string& end_reason) {
  Event e = NewEvent(nhs, event_id);
  auto* d = e.mutable_detention_end();
  d->set_detention_id(detention_id);
  d->mutable_ended_at()->set_seconds(ended_at);
  if (!end_reason.empty()) d->set_end_reason(end_reason);
  return e;
}

Event ReferralOpened(const std::string& nhs, const std::string& event_id,
                     const std::string& referral_id, const std::string& provider,
                     const std::string& received_date, const std::string& service_area,
                     const std::string& team_type) {
  Event e = NewEvent(nhs, event_id);
  auto* r = e.mutable_referral_opened();
  r->set_referral_id(referral_id);
  r->set_provider_code(provider);
  r->set_team_type(team_type);
  r->set_service_area(service_area);
  r->set_received_date(received_date);
  return e;
}

Event ReferralClosed(const std::string& nhs, const std::string& event_id,
                     const std::string& referral_id, const std::string& closed_date,
                     const std::string& reason) {
  Event e = NewEvent(nhs, event_id);
  auto* r = e.mutable_referral_closed();
  r->set_referral_id(referral_id);
  r->set_closed_date(closed_date);
  if (!reason.empty()) r->set_reason(reason);
  return e;
}

Event CareContact(const std::string& nhs, const std::string& event_id,
                  const std::string& contact_id, const std::string& contact_date,
                  const std::string& mechanism) {
  Event e = NewEvent(nhs, event_id);
  auto* c = e.mutable_care_contact();
  c->set_contact_id(contact_id);
  c->set_contact_date(contact_date);
  c->set_attended(true);
  c->set_attend_status("5");
  c->set_consultation_mechanism(mechanism);
  return e;
}

Event Death(const std::string& nhs, const std::string& event_id, const std::string& date_of_death) {
  Event e = NewEvent(nhs, event_id);
  e.mutable_death()->set_date_of_death(date_of_death);
  return e;
}

Event EmploymentStatus(const std::string& nhs, const std::string& event_id, const std::string& code,
                       const std::string& recorded_date) {
  Event e = NewEvent(nhs, event_id);
  e.mutable_employment_status()->set_code(code);
  e.mutable_employment_status()->set_recorded_date(recorded_date);
  return e;
}

Event AccommodationStatus(const std::string& nhs, const std::string& event_id,
                          const std::string& code, const std::string& recorded_date) {
  Event e = NewEvent(nhs, event_id);
  e.mutable_accommodation_status()->set_code(code);
  e.mutable_accommodation_status()->set_recorded_date(recorded_date);
  return e;
}

Event KeyWorkerAssigned(const std::string& nhs, const std::string& event_id,
                        const std::string& assignment_id, const icr::v1::StaffRef& key_worker,
                        const std::string& start_date) {
  Event e = NewEvent(nhs, event_id);
  auto* k = e.mutable_key_worker_assigned();
  k->set_assignment_id(assignment_id);
  *k->mutable_key_worker() = key_worker;
  k->set_start_date(start_date);
  return e;
}

Event KeyWorkerEnded(const std::string& nhs, const std::string& event_id,
                     const std::string& assignment_id, const std::string& end_date) {
  Event e = NewEvent(nhs, event_id);
  e.mutable_key_worker_ended()->set_assignment_id(assignment_id);
  e.mutable_key_worker_ended()->set_end_date(end_date);
  return e;
}

Event CareAct(const std::string& nhs, const std::string& event_id, const std::string& care_act_id,
              icr::v1::CareActEvent::Kind kind, const std::string& council,
              const std::string& start_date) {
  Event e = NewEvent(nhs, event_id);
  auto* c = e.mutable_care_act();
  c->set_care_act_id(care_act_id);
  c->set_kind(kind);
  c->set_council_code(council);
  c->set_start_date(start_date);
  return e;
}

Event CarerAssessment(const std::string& nhs, const std::string& event_id,
                      const std::string& carer_assessment_id, const std::string& carer_name,
                      const std::string& council, const std::string& offered_date) {
  Event e = NewEvent(nhs, event_id);
  auto* c = e.mutable_carer_assessment();
  c->set_carer_assessment_id(carer_assessment_id);
  c->set_carer_name(carer_name);
  c->set_council_code(council);
  c->set_offered_date(offered_date);
  return e;
}

icr::v1::StaffRef Staff(const std::string& name, const std::string& role,
                        const std::string& organisation_code) {
  icr::v1::StaffRef s;
  s.set_name(name);
  s.set_role(role);
  s.set_organisation_code(organisation_code);
  return s;
}

icr::v1::CarePlan CarePlanContent(bool s117, const std::string& key_worker_org,
                                  const std::string& next_review_date) {
  std::string json = R"({
    "is_nhs_pcsp": true, "is_care_act_plan": true, "is_s117_aftercare_plan": S117,
    "key_worker": {"name": "Alex Key", "role": "Care coordinator", "organisation_code": "KWORG"},
    "mdt_members": [{"role": "Social worker", "organisation_code": "E08000035"}],
    "about_me": {"what_matters_to_me": "Getting back to my allotment and seeing my sister."},
    "needs": [
      {"need_id": "n1", "description": "Managing meals and the home",
       "care_act_outcome": "NUTRITION", "arises_from_mental_disorder": true,
       "care_act_eligible": "ELIGIBLE",
       "determination": {"subject": "ADULT", "arises_from_impairment_or_illness": true,
         "unable_outcomes": [
           {"adult_outcome": "NUTRITION", "reasons": ["NEEDS_ASSISTANCE"]},
           {"adult_outcome": "HABITABLE_HOME", "reasons": ["SIGNIFICANTLY_LONGER"]}],
         "significant_impact_on_wellbeing": true}},
      {"need_id": "n2", "description": "Taking medication", "arises_from_mental_disorder": true}],
    "goals": [{"goal_id": "g1", "in_my_words": "I want to cook for myself again.",
               "need_ids": ["n1"]}],
    "interventions": [
      {"intervention_id": "i1", "description": "Home support three times a week",
       "need_ids": ["n1"], "goal_ids": ["g1"],
       "responsible": {"role": "Support worker", "organisation_code": "E08000035"},
       "funder": "COUNCIL", "delivery_mode": "COMMISSIONED"},
      {"intervention_id": "i2", "description": "Depot clinic", "need_ids": ["n2"],
       "responsible": {"name": "Jo Nurse", "organisation_code": "RGD"},
       "funder": "ICB", "delivery_mode": "IN_HOUSE", "is_s117": S117}],
    "crisis_plan": {"warning_signs": ["Not sleeping for two nights"],
      "contacts": [{"name": "Crisis team", "telephone": "0113 000 0000", "hours": "ANY_TIME"}]},
    "carers": [{"name": "Pat", "relationship": "sister", "involvement": "INVOLVED",
                "assessment_offered_date": "2025-10-01"}],
    "personal_budget": {"amount_pence": "15000", "period": "WEEKLY"},
    "advice_and_prevention": "Leeds Directory; peer support on Tuesdays.",
    "agreement": {"participants": [{"name": "The person", "kind": "PERSON", "method": "MEETING"}],
                  "person_agrees": "YES"},
    "review": {"next_review_date": "NEXT"}
  })";
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"S117", s117 ? "true" : "false"},
        {"KWORG", key_worker_org},
        {"NEXT", next_review_date}}) {
    for (auto at = json.find(from); at != std::string::npos; at = json.find(from, at + to.size())) {
      json.replace(at, from.size(), to);
    }
  }
  icr::v1::CarePlan plan;
  (void)google::protobuf::util::JsonStringToMessage(json, &plan);
  return plan;
}

}  // namespace icr::build
