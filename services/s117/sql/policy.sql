-- The S117 policy settings: key, value (text, read by ApplyPolicySetting).
SELECT key, value
FROM s117.policy
