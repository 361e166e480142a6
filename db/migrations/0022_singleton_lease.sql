-- Singleton work (services/common/singleton.h): background work that must run in one icr-server
-- replica at a time (the S117 feed follower, the scheduled KPI refresh) is held by a lease row,
-- taken when free or expired and renewed while held. A row, not a session advisory lock, because
-- production reaches PostgreSQL through PgBouncer in transaction mode (CloudNativePG Pooler),
-- where a session lock would belong to whichever client last used the server connection.
-- Every time here is the database's clock (now()), so replicas' clocks never disagree about it.
CREATE TABLE core.singleton_lease (
  work        text PRIMARY KEY,     -- e.g. s117_follower, kpi_refresh
  holder      text NOT NULL,        -- the holding process: host:pid:random
  acquired_at timestamptz NOT NULL, -- when this holder took it
  renewed_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL  -- free for another process from then on
);
