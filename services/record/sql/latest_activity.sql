-- The date of person $1's latest recorded activity (referral received, admission, care contact,
-- detention, CTO or conditional discharge started) as text, null when there is none: a death may
-- not be dated before it.
SELECT greatest(
  (SELECT max(received_date) FROM core.referral WHERE person_id = $1::uuid),
  (SELECT max(admitted_at)::date FROM core.hospital_spell WHERE person_id = $1::uuid),
  (SELECT max(contact_date) FROM core.care_contact WHERE person_id = $1::uuid),
  (SELECT max(started_at)::date FROM core.detention WHERE person_id = $1::uuid),
  (SELECT max(start_date) FROM core.community_treatment_order WHERE person_id = $1::uuid),
  (SELECT max(start_date) FROM core.conditional_discharge WHERE person_id = $1::uuid)
)::text
