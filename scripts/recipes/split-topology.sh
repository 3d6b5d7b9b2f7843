#!/usr/bin/env bash
# Every part of farmwatch in its own process: Mosquitto as the broker, InfluxDB as the store, one ingest, one rules
# and one dashboard process and the simulated demo farm (README "How to run each part separately").
#
#   scripts/recipes/split-topology.sh          # Ctrl-C stops everything it started
#
# Needs mosquitto (apt-get install -y mosquitto) and, unless INFLUX_URL is set, influxd 1.x (apt-get install -y
# influxdb). Settings, from the environment (defaults in brackets):
#   WORK_DIR [./split-run]        logs, Mosquitto's files (mosq/), each part's DATA_DIR, the InfluxDB started here
#   MOSQUITTO_PORT [1883]         the port Mosquitto listens on (127.0.0.1)
#   INFLUX_URL []                 an InfluxDB 1.x you run already; empty: start influxd in WORK_DIR/influxdb on
#   INFLUX_PORT [8086], INFLUX_RPC_PORT [8088]
#   DASHBOARD_PORT [3000]         the dashboard (log in as admin / dev-only-admin)
#   INGEST_PORT [9461], RULES_PORT [9462], SIMULATE_PORT [9463]   /health and /metrics of the other parts
#   MQTT_SERVICE_PASSWORD [dev-only-service-password]            the parts' login at Mosquitto
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/recipes/lib.sh

WORK_DIR=$(mkdir -p "${WORK_DIR:-split-run}" && cd "${WORK_DIR:-split-run}" && pwd)
MOSQUITTO_PORT=${MOSQUITTO_PORT:-1883}
INFLUX_PORT=${INFLUX_PORT:-8086}
INFLUX_RPC_PORT=${INFLUX_RPC_PORT:-8088}
DASHBOARD_PORT=${DASHBOARD_PORT:-3000}
INGEST_PORT=${INGEST_PORT:-9461}
RULES_PORT=${RULES_PORT:-9462}
SIMULATE_PORT=${SIMULATE_PORT:-9463}
export MQTT_SERVICE_PASSWORD=${MQTT_SERVICE_PASSWORD:-dev-only-service-password}
trap 'echo "stopping"; stop_all; exit 0' INT TERM

# 1. Mosquitto, with a password file and an ACL made from the farm file. Run as root, Mosquitto switches to the
#    mosquitto user, and mosquitto-config gives the files to that user.
npm run -s mosquitto-config -- --out "$WORK_DIR/mosq" --port "$MOSQUITTO_PORT" --host 127.0.0.1
start mosquitto mosquitto -c "$WORK_DIR/mosq/mosquitto.conf"
for ((i = 0; i < 100; i++)); do grep -q ' running' "$WORK_DIR/mosquitto.log" && break; kill -0 "${STARTED[-1]}" 2>/dev/null || fail 'mosquitto did not start' "$WORK_DIR/mosquitto.log"; sleep 0.1; done
grep -q ' running' "$WORK_DIR/mosquitto.log" || fail 'mosquitto did not start within 10 s' "$WORK_DIR/mosquitto.log"

# 2. InfluxDB 1.x (the parts create the database "farm" when it is missing).
if [ -z "${INFLUX_URL:-}" ]; then
  mkdir -p "$WORK_DIR/influxdb"
  cat >"$WORK_DIR/influxdb/influxdb.conf" <<CONF
reporting-enabled = false
bind-address = "127.0.0.1:$INFLUX_RPC_PORT"
[meta]
  dir = "$WORK_DIR/influxdb/meta"
[data]
  dir = "$WORK_DIR/influxdb/data"
  wal-dir = "$WORK_DIR/influxdb/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$INFLUX_PORT"
  log-enabled = false
[logging]
  level = "warn"
CONF
  start influxd influxd -config "$WORK_DIR/influxdb/influxdb.conf"
  INFLUX_URL=http://127.0.0.1:$INFLUX_PORT
  wait_http influxd "$INFLUX_URL/ping" 60
fi

# 3. The parts. They share the farm file and talk through Mosquitto; with InfluxDB each needs a DATA_DIR of its
#    own (its outbox), and each serves /health on its own HTTP_PORT.
export MQTT_URL=mqtt://127.0.0.1:$MOSQUITTO_PORT INFLUX_URL INFLUX_DATABASE=farm SIMULATE=false
start ingest env INSTANCE_ID=ingest-1 HTTP_PORT="$INGEST_PORT" DATA_DIR="$WORK_DIR/ingest-1" npm start -- --only ingest
wait_http ingest "http://127.0.0.1:$INGEST_PORT/health"
start rules env INSTANCE_ID=rules-1 HTTP_PORT="$RULES_PORT" DATA_DIR="$WORK_DIR/rules-1" npm start -- --only rules
wait_http rules "http://127.0.0.1:$RULES_PORT/health"
start dashboard env INSTANCE_ID=dashboard-1 HTTP_PORT="$DASHBOARD_PORT" DATA_DIR="$WORK_DIR/dashboard-1" npm start -- --only dashboard
wait_http dashboard "http://127.0.0.1:$DASHBOARD_PORT/health" 90 '"status":"ok"'
start simulate env INSTANCE_ID=simulate-1 HTTP_PORT="$SIMULATE_PORT" npm start -- --only simulate
wait_http simulate "http://127.0.0.1:$SIMULATE_PORT/health" 60 '"status":"ok"'

echo "ready: dashboard on http://127.0.0.1:$DASHBOARD_PORT (admin / dev-only-admin), Mosquitto on $MQTT_URL, InfluxDB on $INFLUX_URL; logs in $WORK_DIR; Ctrl-C stops everything"
wait
