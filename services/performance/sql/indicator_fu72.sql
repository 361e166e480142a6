-- FU72, 72-hour follow-up (FU-02): a row per discharge from an adult acute bed 4 days before the
-- period ($1 to $2), counted when the person had an attended follow-up contact or was readmitted
-- on days 1 to 3 after discharge (days, not hours; day 0 does not count). Not counted at all:
-- discharges by death or to an excluded destination, and people who died within the 3 days.
-- The unit query of perf.kpi_results.
WITH discharge AS (
  SELECT s.person_id, s.provider_code, perf.local_date(s.discharged_at) AS day
  FROM core.hospital_spell s
  WHERE perf.local_date(s.discharged_at) BETWEEN $1::date - 4 AND $2::date - 4
    AND coalesce(s.bed_type = ANY ((SELECT perf.group_codes('bed_type', 'adult_acute', $2))::text[]),
                 false)
    AND coalesce(s.discharge_method, '') NOT IN ('4', '5')
    AND NOT coalesce(coalesce(s.discharge_destination, '') = ANY (
                       (SELECT perf.group_codes('discharge_destination', 'fu72_excluded', $2))::text[]),
                     false)
)
SELECT s.provider_code, p.icb_code, p.council_code, p.eth_code, p.age_band, p.sex,
       CASE WHEN EXISTS (SELECT 1
                         FROM core.care_contact c
                         WHERE c.person_id = s.person_id
                           AND c.attended
                           AND c.contact_date > s.day
                           AND c.contact_date <= s.day + 3
                           AND coalesce(c.consultation_mechanism = ANY (
                                 (SELECT perf.group_codes('consultation_mechanism', 'follow_up',
                                                          $2))::text[]), false))
              OR EXISTS (SELECT 1
                         FROM core.hospital_spell r
                         WHERE r.person_id = s.person_id
                           AND perf.local_date(r.admitted_at) > s.day
                           AND perf.local_date(r.admitted_at) <= s.day + 3)
            THEN 1 ELSE 0 END AS in_num,
       1 AS in_den, NULL::numeric AS amount
FROM discharge s
JOIN perf.person_units($2) p USING (person_id)
WHERE p.date_of_death IS NULL OR p.date_of_death > s.day + 3
