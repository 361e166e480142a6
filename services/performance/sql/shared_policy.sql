-- The disclosure policy for figures shared with other organisations (perf.setting
-- shared_disclosure_policy, 'mhsds' when unset).
SELECT coalesce((SELECT value FROM perf.setting WHERE key = 'shared_disclosure_policy'), 'mhsds')
