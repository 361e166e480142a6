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
FHIR=${ICR_FHIR_LISTEN:-127.0.0.1:8081}
mkdir -p "$VAR"
# The cluster runs as the postgres OS user when we are root: it must be able to reach var/.
[ "$(id -u)" = 0 ] && chmod o+x "$ROOT" "$VAR"

echo "==> Installing missing packages"
"$ROOT/deploy/install-deps.sh"
echo "==> Building"
"$ROOT/deploy/build.sh" >"$VAR/build.log" 2>&1 || { tail -30 "$VAR/build.log"; exit 1; }
source "$ROOT/deploy/stack.sh"

echo "==> Starting PostgreSQL under var/pg and icr-server on $LISTEN"
stack_start "$VAR" "$LISTEN" --dashboard-listen "$DASHBOARD" --fhir-listen "$FHIR" \
  --export-dir "$VAR/export"
SYSTEM_TOKEN=$(stack_token "$VAR" system "$DEMO_ORG" system)
CLINICIAN_TOKEN=$(stack_token "$VAR" clinician "$DEMO_ORG" clinician)
stack_token "$VAR" analyst "$DEMO_ORG" performance_analyst >/dev/null   # to sign in to the dashboard

have=$(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc "SELECT count(*) FROM core.person")
if [ "$have" -lt "$PEOPLE" ]; then
  echo "==> Seeding $PEOPLE synthetic people (seed $SEED) through ImportEvents"
  "$ICRCTL" --server "$LISTEN" --token "$SYSTEM_TOKEN" demo seed --people "$PEOPLE" --seed "$SEED" \
    --tokens "$(stack_demo_tokens "$VAR")"
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
  FHIR R4:     http://$FHIR/fhir    (UK Core; bearer tokens as for gRPC)
  Logs:        var/icr-server.log      Stop with: deploy/stop.sh

Try it (a clinician token for $DEMO_ORG, kept in var/tokens/clinician):
  export ICR_SERVER=$LISTEN ICR_TOKEN=$CLINICIAN_TOKEN
  $ICRCTL record show $NHS
  $ICRCTL audit show $NHS
  curl -s -H "Authorization: Bearer \$ICR_TOKEN" "http://$FHIR/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|$NHS"
MSG
