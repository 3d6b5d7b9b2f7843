#!/usr/bin/env bash
# Play a scenario of the simulated farm against a running service, then look at what it stored
# (README "Simulators"). The service runs without its own simulation, on a fresh DATA_DIR, so nothing newer than
# the run's readings is there (a sped-up run is stamped from the past up to now: simulators/README.md, "Time").
#
#   scripts/recipes/simulator-run.sh [SCENARIO] [SPEED] [DURATION]     # defaults: ammonia-buildup 60 1h
#
# Settings, from the environment: WORK_DIR [./simulator-run] (DATA_DIR and logs), MQTT_PORT [1883],
# HTTP_PORT [3000]. The service is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/recipes/lib.sh

SCENARIO=${1:-ammonia-buildup}
SPEED=${2:-60}
DURATION=${3:-1h}
WORK_DIR=$(mkdir -p "${WORK_DIR:-simulator-run}" && cd "${WORK_DIR:-simulator-run}" && pwd)
MQTT_PORT=${MQTT_PORT:-1883}
HTTP_PORT=${HTTP_PORT:-3000}
trap 'stop_all' EXIT
rm -rf "$WORK_DIR/data"

# 1. The service on the demo farm, without its own simulated devices.
start service env SIMULATE=false DATA_DIR="$WORK_DIR/data" MQTT_PORT="$MQTT_PORT" HTTP_PORT="$HTTP_PORT" npm start
wait_http service "http://127.0.0.1:$HTTP_PORT/health"

# 2. The scenario, every device a real MQTT client with its own secret; progress on stderr, a summary at the end.
npm run -s simulate -- --scenario "$SCENARIO" --speed "$SPEED" --duration "$DURATION" --broker "mqtt://127.0.0.1:$MQTT_PORT"

# 3. What the service stored: shed 1's ammonia over the run, in 5-minute buckets, and the alerts it raised.
TOKEN=$(curl -fsS -X POST "http://127.0.0.1:$HTTP_PORT/api/login" -H 'content-type: application/json' \
  -d '{"username": "admin", "password": "dev-only-admin"}' | json token)
api() { curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP_PORT$1"; }
api "/api/readings?device=shed-1-env&metric=nh3&from=-1d&every=5m" | node -e '
  const { series } = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const b = series[0]?.buckets ?? [];
  console.log(`shed-1-env nh3: ${b.reduce((n, x) => n + x.count, 0)} readings stored, ${b.length} buckets of 5 min, max ${Math.max(...b.map((x) => x.max))} ppm`);
'
api "/api/alerts" | node -e '
  const alerts = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const list = Array.isArray(alerts) ? alerts : alerts.alerts ?? [];
  console.log(`alerts: ${list.length}` + list.map((a) => `\n  ${a.severity} ${a.rule} ${a.zone}: ${a.message}`).join(""));
'
