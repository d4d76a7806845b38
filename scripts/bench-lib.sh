# Shared by scripts/bench.sh and scripts/bench-scaleout.sh (sourced, not run): the options both
# take, the release build, the machine description, and starting a reference-server with every
# limit a benchmark would hit lifted.

# Defaults of the shared options (a script may change them before parsing).
DURATION=20
MYSQL=
CLIENT_IDS=uuid
BUILD=1
OUT=

# bench_option ARGS…: takes the shared option at the front of ARGS and sets SHIFT to the number
# of words it took. --help prints the calling script's header comment; an unknown option exits 2.
bench_option() {
  case "$1" in
    --duration) DURATION=$2; SHIFT=2 ;;
    --mysql) MYSQL=$2; SHIFT=2 ;;
    --client-ids) CLIENT_IDS=$2; SHIFT=2 ;;
    --out) OUT=$2; SHIFT=2 ;;
    --no-build) BUILD=0; SHIFT=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
}

# build_release: the release server and load generator (unless --no-build).
build_release() {
  if [ "$BUILD" = 1 ]; then
    echo "==> building release binaries"
    cargo build --release -p reference-server -p chatbench
  fi
}

# write_machine: the machine, the client ids and the load average now, into $OUT/machine.txt
# (and on the terminal).
write_machine() {
  { echo "# $(date -u +%FT%TZ) $(uname -srm), client ids: $CLIENT_IDS, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    lscpu | grep -E 'Model name|^CPU\(s\)'
    free -m | sed -n 2p; } > "$OUT/machine.txt"
  cat "$OUT/machine.txt"
}

# start_unlimited LOG [PREFIX…] -- SERVER_ARGS…: starts `PREFIX… $SERVER --listen 127.0.0.1:0
# SERVER_ARGS…` in the background with every rate and connection limit lifted, logging to LOG;
# sets PID, and URL once it listens (exits when it does not within 30 s).
start_unlimited() {
  local log=$1 prefix=()
  shift
  while [ "$1" != -- ]; do prefix+=("$1"); shift; done
  shift
  "${prefix[@]}" "$SERVER" --listen 127.0.0.1:0 "$@" --log warn \
    --guests-per-hour 10000000 --registrations-per-hour 10000000 --guests-can-create-groups \
    --discovery everyone \
    --ws-rate-per-sec 1000000 --ws-rate-burst 1000000 --send-rate-per-sec 1000000 \
    --send-burst 1000000 --groups-per-hour 1000000 --member-adds-per-hour 100000000 \
    --max-connections 100000 --max-connections-per-ip 100000 >"$log" 2>&1 &
  PID=$!
  for _ in $(seq 300); do
    URL=$(grep -o 'http://[0-9.:]*' "$log" | head -1 || true)
    [ -n "$URL" ] && return
    sleep 0.1
  done
  echo "server did not start; see $log" >&2
  exit 1
}
