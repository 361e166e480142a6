-- S117_OVERDUE counts a review as overdue only past the S117 policy's tolerance
-- (s117.policy review_overdue_tolerance_days, 0 unless changed), as the register's overdue filter
-- does (services/performance/store.cpp). The published definition says so.
UPDATE perf.indicator SET definition =
  'Entitlements in force at period end whose next review was due before period end, by more '
  'than the S117 policy''s review_overdue_tolerance_days (0 unless a council changes it; the '
  'same rule as the register''s overdue filter), with no review since (due: the next review date '
  'set at the latest review on or before period end, else 12 months after the entitlement came '
  'into force). By how long overdue, each band including its upper edge: 0-3 months (due on or '
  'after the date 3 months before period end), 3-6 months (due on or after the date 6 months '
  'before and before the date 3 months before), 6-12 months (due on or after the date 12 months '
  'before and before the date 6 months before), over 12 months (due before the date 12 months '
  'before period end).'
WHERE indicator_id = 'S117_OVERDUE';
