#!/usr/bin/env bash
# Provision a new sensor, start the service on the farm file, publish a reading as that device with the secret
# printed once, and read it back over the HTTP API (README "Provisioning a device").
#
#   scripts/recipes/provision-device.sh [FARM_FILE]
#
# FARM_FILE (default WORK_DIR/my-farm.yaml, made from the demo farm when missing) gets the device shed-5-env in a
# new zone shed-5 of site huyang. Settings, from the environment: WORK_DIR [./provision-run] (the service's
# DATA_DIR and log), MQTT_PORT [1883], HTTP_PORT [3000]. The service is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/recipes/lib.sh

WORK_DIR=$(mkdir -p "${WORK_DIR:-provision-run}" && cd "${WORK_DIR:-provision-run}" && pwd)
MQTT_PORT=${MQTT_PORT:-1883}
HTTP_PORT=${HTTP_PORT:-3000}
FARM=${1:-$WORK_DIR/my-farm.yaml}
trap 'stop_all' EXIT
if [ ! -f "$FARM" ]; then
  cp config/demo-farm.yaml "$FARM"
  cp config/demo-animals.csv "$(dirname "$FARM")/" # the demo farm's ear-tag register, next to it
fi

# 1. Add the device (and its zone). Only its scrypt hash goes into the file; the secret is printed once.
npm run -s provision -- --config "$FARM" --site huyang --zone shed-5 --kind shed --id shed-5-env --role sensor --metrics temperature,humidity,nh3 | tee "$WORK_DIR/provision.out"
SECRET=$(tail -n 1 "$WORK_DIR/provision.out")

# 2. Start (or restart) the service on the file: it reads the farm file at start.
start service env FARM_CONFIG="$FARM" SIMULATE=false DATA_DIR="$WORK_DIR/data" MQTT_PORT="$MQTT_PORT" HTTP_PORT="$HTTP_PORT" npm start
wait_http service "http://127.0.0.1:$HTTP_PORT/health"

# 3. The device logs in with its id and the secret, and publishes a reading (QoS 1: acknowledged once stored).
npx mqtt pub -h 127.0.0.1 -p "$MQTT_PORT" -i shed-5-env -u shed-5-env -P "$SECRET" -q 1 \
  -t farm/huyang/shed-5/shed-5-env/telemetry -m '{"metrics": {"temperature": 21.5, "humidity": 63, "nh3": 8.5}}'

# 4. Read it back: log in, then the site's latest values.
TOKEN=$(curl -fsS -X POST "http://127.0.0.1:$HTTP_PORT/api/login" -H 'content-type: application/json' \
  -d '{"username": "admin", "password": "dev-only-admin"}' | json token)
curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP_PORT/api/sites/huyang" >"$WORK_DIR/site.json"
node -e '
  const site = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const zone = site.zones.find((z) => z.id === "shed-5");
  const d = zone.devices.find((x) => x.id === "shed-5-env");
  const values = Object.entries(d.latest ?? {});
  if (values.length === 0) {
    console.error(`${d.id} has no reading on the dashboard: the publish above did not reach the service (see its log).`);
    process.exit(1);
  }
  console.log(`${zone.name} / ${d.id}: ` + values.map(([m, v]) => `${m} ${v.value}`).join(", "));
' "$WORK_DIR/site.json"
