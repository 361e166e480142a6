// The change feed's vocabulary (core.changes): the entities and change types the record and
// care plan services write and the S117 feed follower and WatchChanges readers act on. A type
// is named once here, so writer and reader cannot drift apart.
#pragma once

namespace icr::change {

// Entities.
inline constexpr char kPerson[] = "person";
inline constexpr char kReferral[] = "referral";
inline constexpr char kHospitalSpell[] = "hospital_spell";
inline constexpr char kDetention[] = "detention";
inline constexpr char kCareContact[] = "care_contact";
inline constexpr char kKeyWorker[] = "key_worker";
inline constexpr char kSocialCareEvent[] = "social_care_event";
inline constexpr char kCarerAssessment[] = "carer_assessment";
inline constexpr char kCarePlan[] = "care_plan";
inline constexpr char kS117Episode[] = "s117_episode";
inline constexpr char kCommunityTreatmentOrder[] = "community_treatment_order";
inline constexpr char kConditionalDischarge[] = "conditional_discharge";
inline constexpr char kPlacement[] = "placement";
// An event of the event log, "<org>/<event id>" (a dataset load's corrections and retractions).
inline constexpr char kEvent[] = "event";
// An organisation succeeded by another (issue 22): entity_id the old body, org_code the new.
inline constexpr char kOrganisation[] = "organisation";

// Types of change to the record.
inline constexpr char kCreated[] = "created";
inline constexpr char kUpdated[] = "updated";
inline constexpr char kDied[] = "died";
inline constexpr char kEmploymentStatus[] = "employment_status";
inline constexpr char kAccommodationStatus[] = "accommodation_status";
inline constexpr char kReferralOpened[] = "referral_opened";
inline constexpr char kReferralClosed[] = "referral_closed";
inline constexpr char kAdmitted[] = "admitted";
inline constexpr char kDischarged[] = "discharged";
inline constexpr char kDetentionStarted[] = "detention_started";
inline constexpr char kDetentionEnded[] = "detention_ended";
inline constexpr char kCtoStarted[] = "cto_started";
inline constexpr char kCtoEnded[] = "cto_ended";
inline constexpr char kConditionalDischargeStarted[] = "conditional_discharge_started";
inline constexpr char kConditionalDischargeEnded[] = "conditional_discharge_ended";
inline constexpr char kCareContactRecorded[] = "care_contact";
inline constexpr char kKeyWorkerAssigned[] = "key_worker_assigned";
inline constexpr char kKeyWorkerEnded[] = "key_worker_ended";
inline constexpr char kSocialCareEventRecorded[] = "social_care_event";
// A Care Act event is sent as this prefix and its kind in lower case ("care_act_assessment").
inline constexpr char kCareActPrefix[] = "care_act_";
inline constexpr char kCarerAssessmentRecorded[] = "carer_assessment";
// Types of change to a care plan (besides kCreated and kUpdated).
inline constexpr char kSignedOff[] = "signed_off";
inline constexpr char kAgreed[] = "agreed";
inline constexpr char kReviewStarted[] = "review_started";
inline constexpr char kReviewed[] = "reviewed";
inline constexpr char kClosed[] = "closed";
// Types of change a dataset load (ImportDataset, replace-by-period) makes to stored events: sent
// again with other content (the record follows), or missing from the period's new load (undone).
inline constexpr char kEventCorrected[] = "event_corrected";
inline constexpr char kEventRetracted[] = "event_retracted";
// A succession moved it to the successor body (a care plan's acting-for body, an organisation).
inline constexpr char kSuccession[] = "succession";
// Merges (RecordService.MergePeople, Unmerge, ChangeNhsNumber). "merged": entity person, entity
// id the superseded person's id, person_id the survivor; each row moved: its table as entity,
// its key as entity id, person_id the survivor, type "moved_by_merge". "unmerged": one per person
// of the merge (entity id the superseded person's id); each row restored: "restored_by_unmerge"
// with person_id the restored person.
inline constexpr char kMerged[] = "merged";
inline constexpr char kMovedByMerge[] = "moved_by_merge";
inline constexpr char kUnmerged[] = "unmerged";
inline constexpr char kRestoredByUnmerge[] = "restored_by_unmerge";
inline constexpr char kNhsNumberChanged[] = "nhs_number_changed";

}  // namespace icr::change
