#!/usr/bin/env bash
# End-to-end benchmarks (issue 7): builds release binaries, then runs the four scenarios against
# the reference server (SQLite, durable acks) and against the raw-ws baseline in the same run,
# optionally against MariaDB too, and prints one table per scenario. docs/performance.md quotes
# this script's output.
#
#   scripts/bench.sh                          # ours (SQLite) + raw-ws, scenarios A B C D
#   scripts/bench.sh --mysql mysql://root@127.0.0.1:3306   # adds ours on MariaDB (fresh db per run)
#   scripts/bench.sh --scenarios A,C --duration 5          # a quicker look
#   scripts/bench.sh --client-ids time                     # time-ordered ids instead of UUIDs
#
# Options: --scenarios LIST (A,B,C,D)  --duration SECS (20)  --idle N (20000)  --out DIR
#          --client-ids time|counter|uuid (uuid: what most SDKs send; every table names it)
#          --mysql URL (server URL without database; a fresh database is created per run)
#          --raw-ws DIR (the raw-ws crate; default ../shared/bench/raw-ws)  --no-build
#
# Pinning: every server runs on CPU 0 (`taskset -c 0`), chatbench on CPU 1. Run it on a quiet
# machine: the script warns when the load average is above 0.5 or rustc is running.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCENARIOS=A,B,C,D
DURATION=20
IDLE=20000
MYSQL=
CLIENT_IDS=uuid
BUILD=1
RAW_DIR="$ROOT/../shared/bench/raw-ws"
OUT="${TMPDIR:-/tmp}/chatbench-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
  case "$1" in
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --mysql) MYSQL=$2; shift 2 ;;
    --client-ids) CLIENT_IDS=$2; shift 2 ;;
    --raw-ws) RAW_DIR=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
RAW_TARGET="${RAW_WS_TARGET_DIR:-/tmp/raw-ws-target}"
SERVER="$TARGET/release/reference-server"
BENCH="$TARGET/release/chatbench"
RAW="$RAW_TARGET/release/raw-ws"
mkdir -p "$OUT"

if [ "$BUILD" = 1 ]; then
  echo "==> building release binaries"
  cargo build --release -p reference-server -p chatbench
  # raw-ws is not part of the project: built outside the tree.
  CARGO_TARGET_DIR="$RAW_TARGET" cargo build --release --manifest-path "$RAW_DIR/Cargo.toml"
fi

# Scenario D needs one descriptor per connection in both processes.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
FDS=$(ulimit -n)
if [ "$FDS" != unlimited ] && [ "$IDLE" -gt $((FDS - 500)) ]; then
  echo "warning: open-file limit is $FDS; scenario D uses $((FDS - 500)) connections instead of $IDLE" >&2
  IDLE=$((FDS - 500))
fi

load=$(cut -d' ' -f1 /proc/loadavg)
if awk "BEGIN{exit !($load > 0.5)}" || pgrep -x rustc >/dev/null; then
  echo "warning: machine not quiet (load $load$(pgrep -x rustc >/dev/null && echo ', rustc running')): figures will be low" >&2
fi

{ echo "# $(date -u +%FT%TZ) $(uname -srm), client ids: $CLIENT_IDS, load average: $(cut -d' ' -f1-3 /proc/loadavg)"; lscpu | grep -E 'Model name|^CPU\(s\)'; free -m | sed -n 2p; } > "$OUT/machine.txt"
cat "$OUT/machine.txt"

PID=
stop_server() {
  if [ -n "$PID" ]; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=
  fi
}
trap stop_server EXIT

# start_server KIND NAME: starts a fresh server on CPU 0; sets PID and URL.
start_server() {
  local kind=$1 name=$2 log="$OUT/server-$1-$2.log"
  case "$kind" in
    raw)
      local port=$((9100 + RANDOM % 800))
      PORT=$port WORKERS=1 taskset -c 0 "$RAW" >"$log" 2>&1 &
      PID=$!
      URL="ws://127.0.0.1:$port"
      sleep 0.5
      return
      ;;
    sqlite) local db=() ;;
    mysql)
      local dbname="chatbench_${name}_$$"
      mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $dbname; CREATE DATABASE $dbname"
      local db=(--database "$MYSQL/$dbname")
      ;;
  esac
  local data
  data=$(mktemp -d)
  taskset -c 0 "$SERVER" --listen 127.0.0.1:0 --data-dir "$data" "${db[@]}" --log warn \
    --guests-per-hour 10000000 --registrations-per-hour 10000000 --guests-can-create-groups \
    --discovery everyone \
    --ws-rate-per-sec 1000000 --ws-rate-burst 1000000 --send-rate-per-sec 1000000 \
    --send-burst 1000000 --groups-per-hour 1000000 --member-adds-per-hour 100000000 \
    --max-connections 100000 --max-connections-per-ip 100000 >"$log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do
    URL=$(grep -o 'http://[0-9.:]*' "$log" | head -1 || true)
    [ -n "$URL" ] && return
    sleep 0.1
  done
  echo "server did not start; see $log" >&2
  exit 1
}

# Scenario definitions: the same flags for every server.
flags() {
  local warm=(--warmup-secs 3 --duration-secs "$DURATION" --drain-secs 5)
  case "$1" in
    A) echo --rooms 1 --clients-per-room 100 --rate 0 --inflight 1 "${warm[@]}" ;;
    B) echo --rooms 100 --clients-per-room 10 --rate 0 --inflight 1 "${warm[@]}" ;;
    C) echo --rooms 200 --clients-per-room 10 --rate 1 --inflight 1 "${warm[@]}" ;;
    D) echo --idle "$IDLE" ;;
  esac
}

KINDS=(sqlite raw)
[ -n "$MYSQL" ] && KINDS=(sqlite mysql raw)
for s in ${SCENARIOS//,/ }; do
  for kind in "${KINDS[@]}"; do
    proto=(--proto ours --client-ids "$CLIENT_IDS")
    [ "$kind" = raw ] && proto=(--proto raw)
    echo "==> scenario $s on $kind"
    start_server "$kind" "$s"
    # shellcheck disable=SC2046
    taskset -c 1 "$BENCH" "${proto[@]}" --url "$URL" --server-pid "$PID" --label "$s" \
      $(flags "$s") --json > "$OUT/$s-$kind.json" 2> >(tee "$OUT/$s-$kind.log" | grep -v '^chatbench:' >&2) ||
      echo "{\"label\":\"$s\",\"failed\":true}" > "$OUT/$s-$kind.json"
    stop_server
    sleep 2
  done
done

echo
echo "==> results (JSON lines in $OUT; client ids: $CLIENT_IDS)"
for s in ${SCENARIOS//,/ }; do
  echo
  echo "Scenario $s"
  printf '| %-22s |' metric; for k in "${KINDS[@]}"; do printf ' %14s |' "$k"; done
  [ "${KINDS[0]}" = sqlite ] && printf ' %14s |' "sqlite/raw"; echo
  case "$s" in
    D) metrics="connected connect_failed connect_secs closed_early rss_before_kib rss_connected_kib rss_per_conn_kib" ;;
    C) metrics="msgs_per_sec deliveries_per_sec server_cpu_pct generator_cpu_pct e2e.p50_ms e2e.p90_ms e2e.p99_ms e2e.max_ms ack.p99_ms lost duplicates out_of_order skipped closed_early rss_per_conn_kib" ;;
    *) metrics="msgs_per_sec deliveries_per_sec server_cpu_pct generator_cpu_pct e2e.p50_ms e2e.p90_ms e2e.p99_ms e2e.max_ms ack.p50_ms ack.p99_ms lost duplicates out_of_order closed_early" ;;
  esac
  for m in $metrics; do
    printf '| %-22s |' "$m"
    for k in "${KINDS[@]}"; do
      printf ' %14s |' "$(jq -r ".$m // \"-\" | if type == \"number\" then (. * 1000 | round / 1000) else . end" "$OUT/$s-$k.json" 2>/dev/null)"
    done
    if [ "${KINDS[0]}" = sqlite ]; then
      printf ' %14s |' "$(jq -rn --slurpfile a "$OUT/$s-sqlite.json" --slurpfile b "$OUT/$s-raw.json" \
        "(\$a[0].$m // 0) as \$x | (\$b[0].$m // 0) as \$y | if \$y == 0 then \"-\" else (\$x / \$y * 100 | round / 100) end" 2>/dev/null)"
    fi
    echo
  done
done
