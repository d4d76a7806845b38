#!/usr/bin/env bash
# Scale-out benchmark (issue 14): scenario B (100 rooms x 10 clients, ack-paced) on MariaDB, in
# one run: on one node, then on two nodes linked through Redis with the clients split between
# them (each room's members span both nodes). Prints chatbench's figures and the CPU seconds
# every process used, since on a small machine the nodes, MariaDB, Redis and the load generator
# share the same cores. docs/performance.md quotes this script's output.
#
#   scripts/bench-scaleout.sh                       # release build, 20 s per run
#   scripts/bench-scaleout.sh --duration 10 --no-build
#
# Options: --duration SECS (20)  --mysql URL (mysql://root@127.0.0.1:3306)
#          --redis URL (redis://127.0.0.1:6379)  --client-ids time|counter|uuid (uuid)
#          --out DIR  --no-build
#
# No CPU pinning: with two nodes there is no core to spare, so every process floats over all
# cores in both runs and the CPU table says who used what.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
MYSQL=mysql://root@127.0.0.1:3306
REDIS=redis://127.0.0.1:6379
OUT="${TMPDIR:-/tmp}/chatbench-scaleout-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
  case "$1" in
    --redis) REDIS=$2; shift 2 ;;
    *) bench_option "$@"; shift "$SHIFT" ;;
  esac
done

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
SERVER="$TARGET/release/reference-server"
BENCH="$TARGET/release/chatbench"
mkdir -p "$OUT"
build_release
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
write_machine

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
# The databases of the run, dropped when it ends however it ends.
db_name() { echo "chatbench_scaleout_$1_$$"; }
drop_dbs() {
  for db in "$(db_name one)" "$(db_name two)"; do
    mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $db" || true
  done
}
trap 'cleanup; drop_dbs' EXIT

# cpu_secs PID: user + system CPU seconds of a process (0 when it is gone).
cpu_secs() {
  awk '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# start_node DB LOG [BROKER]: starts a node on database DB; sets URL, appends its pid to PIDS.
start_node() {
  local db=$1 log=$2 broker=${3:-} data
  data=$(mktemp -d)
  local extra=()
  [ -n "$broker" ] && extra=(--broker "$broker")
  start_unlimited "$log" -- --data-dir "$data" --database "$db" "${extra[@]}"
  PIDS+=("$PID")
}

fresh_db() {
  local name
  name=$(db_name "$1")
  mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $name; CREATE DATABASE $name"
  echo "$MYSQL/$name"
}

B=(--rooms 100 --clients-per-room 10 --rate 0 --inflight 1 --warmup-secs 3
   --duration-secs "$DURATION" --drain-secs 5 --client-ids "$CLIENT_IDS")
MARIADB_PID=$(pgrep -xo mariadbd || pgrep -xo mysqld || echo 0)
REDIS_PID=$(pgrep -xo redis-server || echo 0)

# run NAME URL [ALSO_URL]: scenario B against the started nodes; records CPU seconds of each.
run() {
  local name=$1 url=$2 also=${3:-}
  local extra=()
  [ -n "$also" ] && extra=(--also-url "$also")
  local procs=("${PIDS[@]}" "$MARIADB_PID" "$REDIS_PID")
  local before=() after=()
  for p in "${procs[@]}"; do before+=("$(cpu_secs "$p")"); done
  local start=$SECONDS
  "$BENCH" --url "$url" "${extra[@]}" --server-pid "${PIDS[0]}" --label "$name" "${B[@]}" --json \
    > "$OUT/$name.json" 2> "$OUT/$name.log" & local bench=$!
  local bench_cpu=0
  while kill -0 "$bench" 2>/dev/null; do bench_cpu=$(cpu_secs "$bench"); sleep 0.5; done
  wait "$bench" || echo "{\"label\":\"$name\",\"failed\":true}" > "$OUT/$name.json"
  for p in "${procs[@]}"; do after+=("$(cpu_secs "$p")"); done
  local wall=$((SECONDS - start))
  {
    echo "wall_secs $wall"
    local i=0 label
    for p in "${procs[@]}"; do
      if [ "$i" -lt $((${#procs[@]} - 2)) ]; then label="node$((i + 1))"
      elif [ "$i" -eq $((${#procs[@]} - 2)) ]; then label=mariadb
      else label=redis; fi
      echo "$label $(awk "BEGIN{printf \"%.1f\", ${after[$i]} - ${before[$i]}}")"
      i=$((i + 1))
    done
    echo "chatbench $bench_cpu"
  } > "$OUT/$name.cpu"
}

echo "==> B on one node (MariaDB, no broker)"
start_node "$(fresh_db one)" "$OUT/one-node1.log"
run one "$URL"
cleanup
sleep 2

echo "==> B on two nodes (MariaDB + Redis), clients split"
DB=$(fresh_db two)
start_node "$DB" "$OUT/two-node1.log" "$REDIS"
URL1=$URL
start_node "$DB" "$OUT/two-node2.log" "$REDIS"
run two "$URL1" "$URL"
cleanup

echo
echo "==> results (in $OUT; client ids: $CLIENT_IDS)"
printf '| %-20s | %14s | %14s |\n' metric "one node" "two nodes"
for m in msgs_per_sec deliveries_per_sec e2e.p50_ms e2e.p99_ms ack.p50_ms ack.p99_ms lost duplicates out_of_order closed_early; do
  printf '| %-20s |' "$m"
  for r in one two; do
    printf ' %14s |' "$(jq -r ".$m // \"-\" | if type == \"number\" then (. * 1000 | round / 1000) else . end" "$OUT/$r.json" 2>/dev/null)"
  done
  echo
done
echo
echo "CPU seconds per process over the whole run (setup, warm-up, measurement, drain):"
for r in one two; do echo "[$r]"; cat "$OUT/$r.cpu"; done
