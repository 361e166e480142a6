-- One organisation of a reference data file: added, updated when any value differs, else
-- unchanged (no row returned). Returns whether it was added. An empty closed_on keeps the close
-- date a succession gave (organisations do not reopen).
INSERT INTO core.organisation AS o (code, kind, name, icb_code, opened_on, closed_on)
VALUES ($1, $2, $3, nullif($4, ''), $5::date, nullif($6, '')::date)
ON CONFLICT (code) DO UPDATE
  SET kind = excluded.kind, name = excluded.name, icb_code = excluded.icb_code,
      opened_on = excluded.opened_on, closed_on = coalesce(excluded.closed_on, o.closed_on)
  WHERE (o.kind, o.name, o.icb_code, o.opened_on, o.closed_on)
        IS DISTINCT FROM (excluded.kind, excluded.name, excluded.icb_code, excluded.opened_on,
                          coalesce(excluded.closed_on, o.closed_on))
RETURNING xmax = 0 AS added
