#!/usr/bin/env bash
# Starts the whole stack on this machine with demo data: installs missing Debian packages,
# builds, starts a private PostgreSQL cluster under var/, migrates, seeds a synthetic population,
# starts icr-server with every service and prints a ready-to-paste icrctl example.
# Running it again reuses what exists. deploy/stop.sh stops everything.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VAR=$ROOT/var
PEOPLE=${ICR_DEMO_PEOPLE:-1000}
SEED=${ICR_DEMO_SEED:-1}
DEMO_ORG=${ICR_DEMO_ORG:-RGD}   # the trust whose EPR "sends" the demo data
LISTEN=${ICR_LISTEN:-127.0.0.1:50051}
DASHBOARD=${ICR_DASHBOARD_LISTEN:-127.0.0.1:8080}
mkdir -p "$VAR"
# The cluster runs as the postgres OS user when we are root: it must be able to reach var/.
[ "$(id -u)" = 0 ] && chmod o+x "$ROOT" "$VAR"

echo "==> Installing missing packages"
"$ROOT/deploy/install-deps.sh"
echo "==> Building"
"$ROOT/deploy/build.sh" >"$VAR/build.log" 2>&1 || { tail -30 "$VAR/build.log"; exit 1; }
BIN=$ROOT/build
ICRCTL=$BIN/clients/icrctl/icrctl

echo "==> Starting PostgreSQL under var/pg"
source "$ROOT/deploy/pg.sh"
pg_start "$VAR/pg"
export ICR_DATABASE_URL=$PG_URL
"$ICRCTL" db migrate --database-url "$PG_URL"

token_for() {  # token_for NAME ORG ROLE: created once, kept in var/tokens/NAME (mode 600)
  local file=$VAR/tokens/$1
  mkdir -p "$VAR/tokens" && chmod 700 "$VAR/tokens"
  if [ ! -s "$file" ]; then
    (umask 077; "$ICRCTL" admin token create --org "$2" --role "$3" --label "quickstart $1" \
      --database-url "$PG_URL" >"$file")
  fi
  cat "$file"
}
SYSTEM_TOKEN=$(token_for system "$DEMO_ORG" system)
CLINICIAN_TOKEN=$(token_for clinician "$DEMO_ORG" clinician)
token_for analyst "$DEMO_ORG" performance_analyst >/dev/null   # to sign in to the dashboard

echo "==> Starting icr-server on $LISTEN"
if [ -f "$VAR/icr-server.pid" ] && kill -0 "$(cat "$VAR/icr-server.pid")" 2>/dev/null; then
  echo "    already running (pid $(cat "$VAR/icr-server.pid"))"
else
  nohup "$BIN/services/server/icr-server" --listen "$LISTEN" --services all \
    --dashboard-listen "$DASHBOARD" --database-url "$PG_URL" >>"$VAR/icr-server.log" 2>&1 &
  echo $! >"$VAR/icr-server.pid"
  host=${LISTEN%:*}; port=${LISTEN##*:}
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && break
    kill -0 "$(cat "$VAR/icr-server.pid")" 2>/dev/null || { tail -20 "$VAR/icr-server.log"; exit 1; }
    sleep 0.1
  done
fi

have=$(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc "SELECT count(*) FROM core.person")
if [ "$have" -lt "$PEOPLE" ]; then
  echo "==> Seeding $PEOPLE synthetic people (seed $SEED) through ImportEvents"
  "$ICRCTL" --server "$LISTEN" --token "$SYSTEM_TOKEN" demo seed --people "$PEOPLE" --seed "$SEED"
else
  echo "==> Demo data present ($have people)"
fi

# Indicators for the 24 months before this one (the demo history ends before the 1st).
FIRST_OF_MONTH=$(date -u +%Y-%m-01)
KPI_TO=$(date -u -d "$FIRST_OF_MONTH -1 month" +%Y-%m)
KPI_FROM=$(date -u -d "$FIRST_OF_MONTH -24 months" +%Y-%m)
computed=$(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc \
  "SELECT count(*) FROM perf.kpi_result WHERE period_start = '$KPI_TO-01'")
if [ "$computed" = 0 ]; then
  echo "==> Computing indicators $KPI_FROM to $KPI_TO"
  "$ICRCTL" --server "$LISTEN" --token "$SYSTEM_TOKEN" kpi compute --from "$KPI_FROM" --to "$KPI_TO"
fi

# Someone $DEMO_ORG may see (the access rule: a current relationship), with the most stays.
NHS=$(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -At -v org="$DEMO_ORG" <<'SQL'
SELECT p.nhs_number FROM core.person p JOIN core.hospital_spell s USING (person_id)
 WHERE core.can_see(p.person_id, :'org')
 GROUP BY p.nhs_number ORDER BY count(*) DESC, p.nhs_number LIMIT 1
SQL
)
cat <<MSG

The integrated care record is running.
  gRPC:        $LISTEN (record, careplan, s117, performance; health and reflection on)
  PostgreSQL:  $PG_URL
  Dashboard:   http://$DASHBOARD/   (sign in with the analyst token in var/tokens/analyst)
  Logs:        var/icr-server.log      Stop with: deploy/stop.sh

Try it (a clinician token for $DEMO_ORG, kept in var/tokens/clinician):
  export ICR_SERVER=$LISTEN ICR_TOKEN=$CLINICIAN_TOKEN
  $ICRCTL record show $NHS
  $ICRCTL audit show $NHS
MSG
