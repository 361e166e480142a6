-- Gives up holder $2's lease on work $1 at once (clean shutdown): the row stays, expired, naming
-- the last holder.
UPDATE core.singleton_lease SET expires_at = now() WHERE work = $1 AND holder = $2
