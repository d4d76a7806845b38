#!/usr/bin/env bash
# End-to-end benchmarks (issues 7 and 15): builds release binaries, then runs the scenarios
# against the reference server (SQLite, durable acks) and against the raw-ws baseline in the same
# run, optionally against MariaDB too, prints one table per scenario plus the targets, and writes
# them into docs/performance.md (between the `bench.sh:begin` and `bench.sh:end` markers).
#
#   scripts/bench.sh                          # ours (SQLite) + raw-ws: A B C D, then L (C for 5 min)
#   scripts/bench.sh --mysql mysql://root@127.0.0.1:3306   # adds ours on MariaDB (fresh db per run)
#   scripts/bench.sh --scenarios A,C --duration 5 --no-doc # a quicker look, doc untouched
#   scripts/bench.sh --client-ids time                     # time-ordered ids instead of UUIDs
#
# Options: --scenarios LIST (A,B,C,D,L)  --duration SECS (20)  --long SECS (300, scenario L)
#          --idle N (20000)  --out DIR  --doc FILE (docs/performance.md)  --no-doc
#          --client-ids time|counter|uuid (uuid: what most SDKs send; every table names it)
#          --mysql URL (server URL without database; a fresh database is created per run)
#          --raw-ws DIR (the raw-ws crate; default ../shared/bench/raw-ws)  --no-build
#
# Scenario L is C run for --long seconds on our SQLite server only (stalls such as WAL
# checkpoints show in long runs; the server's RSS is sampled every 10 s to see it stay flat).
# Pinning: every server runs on CPU 0 (`taskset -c 0`), chatbench on CPU 1. Run it on a quiet
# machine: the script warns when the load average is above 0.5 or rustc is running, and the
# load average at the start and the end goes into the written section.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
SCENARIOS=A,B,C,D,L
LONG=300
DOC=docs/performance.md
ARGS="$*"
IDLE=20000
RAW_DIR="$ROOT/../shared/bench/raw-ws"
OUT="${TMPDIR:-/tmp}/chatbench-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
  case "$1" in
    --scenarios) SCENARIOS=$2; shift 2 ;;
    --long) LONG=$2; shift 2 ;;
    --doc) DOC=$2; shift 2 ;;
    --no-doc) DOC=; shift ;;
    --idle) IDLE=$2; shift 2 ;;
    # Directories of the machine it ran on are not recorded in the doc.
    --raw-ws) RAW_DIR=$2; ARGS=${ARGS/--raw-ws $2/--raw-ws DIR}; shift 2 ;;
    --out) OUT=$2; ARGS=${ARGS/--out $2/--out DIR}; shift 2 ;;
    *) bench_option "$@"; shift "$SHIFT" ;;
  esac
done

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
RAW_TARGET="${RAW_WS_TARGET_DIR:-/tmp/raw-ws-target}"
SERVER="$TARGET/release/reference-server"
BENCH="$TARGET/release/chatbench"
RAW="$RAW_TARGET/release/raw-ws"
mkdir -p "$OUT"

build_release
if [ "$BUILD" = 1 ]; then
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

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
write_machine

PID=
DBNAME=
# stop_server: stops the running server and drops the MariaDB database it ran on, if any (a run
# would otherwise leave one database per scenario behind).
stop_server() {
  if [ -n "$PID" ]; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=
  fi
  if [ -n "$DBNAME" ]; then
    mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $DBNAME" || true
    DBNAME=
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
      DBNAME="chatbench_${name}_$$"
      mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS $DBNAME; CREATE DATABASE $DBNAME"
      local db=(--database "$MYSQL/$DBNAME")
      ;;
  esac
  local data
  data=$(mktemp -d)
  start_unlimited "$log" taskset -c 0 -- --data-dir "$data" "${db[@]}"
}

# Scenario definitions: the same flags for every server.
flags() {
  local warm=(--warmup-secs 3 --duration-secs "$DURATION" --drain-secs 5)
  case "$1" in
    A) echo --rooms 1 --clients-per-room 100 --rate 0 --inflight 1 "${warm[@]}" ;;
    B) echo --rooms 100 --clients-per-room 10 --rate 0 --inflight 1 "${warm[@]}" ;;
    C) echo --rooms 200 --clients-per-room 10 --rate 1 --inflight 1 "${warm[@]}" ;;
    L) echo --rooms 200 --clients-per-room 10 --rate 1 --inflight 1 --warmup-secs 3 \
         --duration-secs "$LONG" --drain-secs 5 ;;
    D) echo --idle "$IDLE" ;;
  esac
}

# sample_rss PID FILE: the server's RSS (KiB) every 10 s, "<seconds> <KiB>" per line, until it exits.
sample_rss() {
  local pid=$1 file=$2 t=0
  while kill -0 "$pid" 2>/dev/null; do
    awk -v t="$t" '/^VmRSS:/ {print t, $2}' "/proc/$pid/status" 2>/dev/null >>"$file" || true
    sleep 10
    t=$((t + 10))
  done
}

KINDS=(sqlite raw)
[ -n "$MYSQL" ] && KINDS=(sqlite mysql raw)
for s in ${SCENARIOS//,/ }; do
  kinds=("${KINDS[@]}")
  [ "$s" = L ] && kinds=(sqlite)
  for kind in "${kinds[@]}"; do
    proto=(--proto ours --client-ids "$CLIENT_IDS")
    [ "$kind" = raw ] && proto=(--proto raw)
    echo "==> scenario $s on $kind"
    start_server "$kind" "$s"
    SAMPLER=
    if [ "$s" = L ]; then
      sample_rss "$PID" "$OUT/$s-$kind-rss.txt" &
      SAMPLER=$!
    fi
    # shellcheck disable=SC2046
    taskset -c 1 "$BENCH" "${proto[@]}" --url "$URL" --server-pid "$PID" --label "$s" \
      $(flags "$s") --json > "$OUT/$s-$kind.json" 2> >(tee "$OUT/$s-$kind.log" | grep -v '^chatbench:' >&2) ||
      echo "{\"label\":\"$s\",\"failed\":true}" > "$OUT/$s-$kind.json"
    stop_server
    [ -n "$SAMPLER" ] && wait "$SAMPLER" 2>/dev/null
    sleep 2
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# value SCENARIO KIND METRIC: one figure of a run's JSON line ("-" if absent), rounded for reading.
value() {
  jq -r ".$3 // \"-\" | if type == \"number\" then (if . >= 100 then round else (. * 100 | round / 100) end) else . end" \
    "$OUT/$1-$2.json" 2>/dev/null || echo -
}

# ratio SCENARIO METRIC: ours on SQLite / raw-ws, two decimals.
ratio() {
  jq -rn --slurpfile a "$OUT/$1-sqlite.json" --slurpfile b "$OUT/$1-raw.json" \
    "(\$a[0].$2 // 0) as \$x | (\$b[0].$2 // 0) as \$y | if \$y == 0 then \"-\" else (\$x / \$y * 100 | round / 100) end" 2>/dev/null || echo -
}

# check CONDITION: "met" or "**missed**" (CONDITION is a jq expression over nothing).
check() {
  case "$(jq -n "$1" 2>/dev/null)" in true) echo met ;; *) echo '**missed**' ;; esac
}

has() { [ -f "$OUT/$1-$2.json" ] && ! jq -e '.failed' "$OUT/$1-$2.json" >/dev/null 2>&1; }

targets() {
  echo "| target | measured | verdict |"
  echo "|---|---|---|"
  if has A sqlite && has A raw; then
    local r; r=$(ratio A deliveries_per_sec)
    echo "| A ≥ 0.6× raw-ws deliveries/s | $(value A sqlite deliveries_per_sec) vs $(value A raw deliveries_per_sec) = ${r}× | $(check "$r >= 0.6") |"
  fi
  if has B sqlite && has B raw; then
    local r; r=$(ratio B deliveries_per_sec)
    echo "| B ≥ 0.5× raw-ws deliveries/s | $(value B sqlite deliveries_per_sec) vs $(value B raw deliveries_per_sec) = ${r}× | $(check "$r >= 0.5") |"
  fi
  if has B mysql; then
    local d; d=$(value B mysql deliveries_per_sec)
    echo "| B on MariaDB ≥ 100,000 deliveries/s | $d | $(check "$d >= 100000") |"
  fi
  for s in C L; do
    has "$s" sqlite || continue
    local p lost; p=$(value "$s" sqlite e2e.p99_ms); lost=$(value "$s" sqlite lost)
    echo "| $s: p99 < 5 ms, 0 lost ($(value "$s" sqlite measured_secs) s) | p99 $p ms, p99.9 $(value "$s" sqlite e2e.p999_ms) ms, max $(value "$s" sqlite e2e.max_ms) ms, lost $lost | $(check "$p < 5 and $lost == 0") |"
  done
  if has L sqlite && [ -s "$OUT/L-sqlite-rss.txt" ]; then
    echo "| L: memory flat | server RSS (MiB) every 30 s from its start: $(awk 'NR % 3 == 1 {printf "%s%.1f", sep, $2 / 1024; sep = ", "}' "$OUT/L-sqlite-rss.txt"); connected $(value L sqlite rss_connected_kib) KiB, end $(value L sqlite rss_end_kib) KiB | read the series |"
  fi
  if has D sqlite; then
    local k; k=$(value D sqlite rss_per_conn_kib)
    echo "| D ≤ 14 KiB per idle connection | $k KiB ($(value D sqlite connected) connections) | $(check "$k <= 14") |"
  fi
}

tables() {
  echo "Generated by \`scripts/bench.sh${ARGS:+ $ARGS}\` on $(date -u +'%F %H:%M') UTC, commit \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- . ':!docs' 2>/dev/null || echo ' (with local changes)'),"
  echo "client ids: **$CLIENT_IDS**; load average $LOAD_START at the start, $LOAD_END at the end"
  echo "($(nproc) CPUs; servers on CPU 0, chatbench on CPU 1)."
  echo
  targets
  for s in ${SCENARIOS//,/ }; do
    kinds=("${KINDS[@]}")
    [ "$s" = L ] && kinds=(sqlite)
    echo
    echo "Scenario $s"
    echo
    local line="| metric |" rule="|---|"
    for k in "${kinds[@]}"; do line+=" $k |"; rule+="--:|"; done
    if [ "${#kinds[@]}" -gt 1 ]; then line+=" sqlite/raw |"; rule+="--:|"; fi
    echo "$line"
    echo "$rule"
    case "$s" in
      D) metrics="connected connect_failed connect_secs closed_early rss_before_kib rss_connected_kib rss_per_conn_kib" ;;
      C|L) metrics="msgs_per_sec deliveries_per_sec server_cpu_pct generator_cpu_pct e2e.p50_ms e2e.p90_ms e2e.p99_ms e2e.p999_ms e2e.max_ms ack.p99_ms lost duplicates out_of_order skipped closed_early rss_connected_kib rss_end_kib rss_per_conn_kib" ;;
      *) metrics="msgs_per_sec deliveries_per_sec server_cpu_pct generator_cpu_pct e2e.p50_ms e2e.p90_ms e2e.p99_ms e2e.max_ms ack.p50_ms ack.p99_ms lost duplicates out_of_order closed_early" ;;
    esac
    for m in $metrics; do
      line="| $m |"
      for k in "${kinds[@]}"; do line+=" $(value "$s" "$k" "$m") |"; done
      [ "${#kinds[@]}" -gt 1 ] && line+=" $(ratio "$s" "$m") |"
      echo "$line"
    done
  done
}

echo
echo "==> results (JSON lines in $OUT; client ids: $CLIENT_IDS)"
echo
tables | tee "$OUT/tables.md"

# Replace what lies between the markers in the doc with the tables of this run.
if [ -n "$DOC" ]; then
  if grep -q '^<!-- bench.sh:begin -->$' "$DOC" && grep -q '^<!-- bench.sh:end -->$' "$DOC"; then
    awk -v tables="$OUT/tables.md" '
      /^<!-- bench.sh:begin -->$/ { print; while ((getline line < tables) > 0) print line; skip = 1; next }
      /^<!-- bench.sh:end -->$/ { skip = 0 }
      !skip' "$DOC" > "$OUT/doc.md" && cp "$OUT/doc.md" "$DOC"
    echo "==> wrote the tables into $DOC"
  else
    echo "warning: $DOC has no bench.sh:begin/end markers; tables left in $OUT/tables.md" >&2
  fi
fi
