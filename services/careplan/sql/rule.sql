-- The configuration of plan type $1: the agencies that sign off (comma-separated), how many
-- sign-offs agree a plan, the longest gap between reviews in months.
SELECT array_to_string(signoff_agencies, ','), signoffs_needed, max_review_months
FROM careplan.plan_type_rule
WHERE plan_type = $1
