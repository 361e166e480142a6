-- Takes the lease on work $1 for holder $2 for $3 seconds when it is free, expired or already
-- $2's (a renewal); a row comes back only when $2 holds it now.
INSERT INTO core.singleton_lease AS l (work, holder, acquired_at, renewed_at, expires_at)
VALUES ($1, $2, now(), now(), now() + make_interval(secs => $3::float8))
ON CONFLICT (work) DO UPDATE
  SET holder = EXCLUDED.holder,
      acquired_at = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > now()
                         THEN l.acquired_at ELSE now() END,
      renewed_at = now(),
      expires_at = EXCLUDED.expires_at
  WHERE l.expires_at <= now() OR l.holder = EXCLUDED.holder
RETURNING acquired_at
