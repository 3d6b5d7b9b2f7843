# Helpers the recipes share: start a process with its log in $WORK_DIR, wait until it answers, stop everything
# that was started (and only that) when the recipe ends or is interrupted. Sourced, not run.

# Every background job gets its own process group (npm and the node it starts stop together).
set -m

STARTED=()

# start NAME COMMAND...: runs COMMAND in the background, output to $WORK_DIR/NAME.log.
start() {
  local name=$1
  shift
  "$@" >"$WORK_DIR/$name.log" 2>&1 &
  STARTED+=("$!")
  echo "started $name (pid $!, log $WORK_DIR/$name.log)"
}

# stop_all: SIGTERM to each started process group, newest first, then wait for them.
stop_all() {
  local i
  for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
    kill -TERM -- "-${STARTED[i]}" 2>/dev/null || true
  done
  for pid in "${STARTED[@]}"; do wait "$pid" 2>/dev/null || true; done
  STARTED=()
}

# fail MESSAGE [LOG]: says what went wrong (with the end of the log), stops everything, exits 1.
fail() {
  echo "FAILED: $1" >&2
  if [ -n "${2:-}" ] && [ -f "$2" ]; then
    echo "--- last lines of $2:" >&2
    tail -n 30 "$2" >&2
  fi
  stop_all
  exit 1
}

# wait_http NAME URL [SECONDS] [EXPECT]: until URL answers (and its body contains EXPECT), while the last
# started process runs.
wait_http() {
  local name=$1 url=$2 seconds=${3:-90} expect=${4:-} pid=${STARTED[-1]} body
  for ((i = 0; i < seconds * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || fail "$name exited before answering $url" "$WORK_DIR/$name.log"
    if body=$(curl -fsS --max-time 2 "$url" 2>/dev/null) && [[ -z "$expect" || "$body" == *"$expect"* ]]; then
      echo "$name answers at $url"
      return 0
    fi
    sleep 0.2
  done
  fail "$name did not answer $url${expect:+ with $expect} within $seconds s" "$WORK_DIR/$name.log"
}

# json FIELD: prints a field of the JSON on stdin (node is there anyway; no jq needed).
json() {
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v?.[k];console.log(typeof v==="object"?JSON.stringify(v):v)})' "$1"
}
