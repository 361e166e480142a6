-- Readiness: the database answers (services/common/health.cpp, at most once a second).
SELECT 1
