#!/usr/bin/env bash
# SQL injection scan of the REST API: starts the reference server on a fresh SQLite data
# directory, seeds users, rooms, messages, a picture, an invite link and an avatar, then runs
# sqlmap (level 3, risk 2) with a session cookie against every request in
# scripts/scan-targets.txt: query parameters, path ids and JSON bodies; the first request also
# has its Cookie, User-Agent and Referer tested. Exits non-zero if sqlmap finds an injection
# point or cannot run a request.
#
# Usage: scripts/scan.sh [TARGETS-FILE]. Needs target/debug/reference-server (or
# CHAT_SERVER_BIN) and sqlmap (CHAT_SQLMAP, default target/pyenv/bin/sqlmap; scripts/test.sh
# installs it). Output: target/scan/ (one sqlmap log per request, the server's log).
set -euo pipefail
cd "$(dirname "$0")/.."

targets="${1:-scripts/scan-targets.txt}"
server_bin="${CHAT_SERVER_BIN:-target/debug/reference-server}"
sqlmap="${CHAT_SQLMAP:-target/pyenv/bin/sqlmap}"
out="${CHAT_SCAN_OUT:-target/scan}"
for tool in "$server_bin" "$sqlmap"; do
  [ -x "$tool" ] || { echo "scan: $tool not found (build the server / run scripts/test.sh)" >&2; exit 2; }
done
rm -rf "$out"
mkdir -p "$out/logs"

# The server, with the per-address limits, the search budget and the dead-invite-link
# throttles raised: the scan sends thousands of requests (and made-up tokens) from one address
# as one user, and a 429 would only hide what the payloads reach. Only this script raises them.
data="$out/data"
"$server_bin" --listen 127.0.0.1:0 --data-dir "$data" --log warn \
  --registrations-per-hour 1000000 --guests-per-hour 1000000 --login-failures-per-ip 1000000 \
  --searches-per-minute 1000000 --invite-failures-per-ip 1000000 --invite-failures-per-user 1000000 \
  >"$out/server.out" 2>"$out/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  base=$(sed -n 's/^listening on //p' "$out/server.out")
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { echo "scan: the server did not start:" >&2; cat "$out/server.log" >&2; exit 1; }

# Seeding, over the API like any client.
api() { # METHOD PATH [BODY] → the response body; fails on an HTTP error
  curl -sS --fail-with-body -X "$1" "$base$2" -H 'content-type: application/json' \
    -H "cookie: chat_session=${token:-}" -H "origin: $base" ${3:+--data "$3"}
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
register() { api POST /api/v1/auth/register "{\"username\":\"$1\",\"password\":\"correct horse battery staple\"}"; }
reply=$(register alice)
token=$(json "['token']" <<<"$reply")
alice=$(json "['user']['id']" <<<"$reply")
bob=$(register bob | json "['user']['id']")
carol=$(register carol | json "['user']['id']")
dave=$(register dave | json "['user']['id']")
register loginuser >/dev/null
"$server_bin" --data-dir "$data" --log warn admin promote alice >/dev/null
group=$(api POST /api/v1/rooms "{\"name\":\"Scan\",\"members\":[$bob,$carol]}" | json "['id']")
direct=$(api POST /api/v1/rooms/direct "{\"user_id\":$bob}" | json "['id']")
for text in one two three; do
  api POST "/api/v1/rooms/$group/messages" "{\"body\":\"$text\"}" >/dev/null
done
# A whole 1x1 PNG: images are decoded and re-encoded on upload, so a bare header is refused.
png='iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='
media=$(printf '%s' "$png" | base64 -d | curl -sS --fail-with-body -X POST "$base/api/v1/rooms/$group/media" \
  -H 'content-type: image/png' -H "cookie: chat_session=$token" -H "origin: $base" \
  --data-binary @- | json "['id']")
invite=$(api POST "/api/v1/rooms/$group/invites" '{}' | json "['token']")
avatar=$(printf '%s' "$png" | base64 -d | curl -sS --fail-with-body -X PUT "$base/api/v1/me/avatar" \
  -H 'content-type: image/png' -H "cookie: chat_session=$token" -H "origin: $base" \
  --data-binary @- | json "['avatar']")
echo "seeded: group $group, direct $direct, users $alice $bob $carol $dave, media $media, avatar $avatar, an invite link"

findings=0
failures=0
n=0
while read -r method path body; do
  case "$method" in ''|'#'*) continue ;; esac
  n=$((n + 1))
  for name in group direct alice bob carol dave media invite avatar; do
    path=${path//\{$name\}/${!name}}
    body=${body//\{$name\}/${!name}}
  done
  # Headers are the same on every request: test Cookie, User-Agent and Referer once.
  skip=()
  [ "$n" -gt 1 ] && skip=(--skip "chat_session,user-agent,referer")
  log="$out/logs/$n.txt"
  started=$SECONDS
  # 401 is what a tampered session cookie gets, 404 what a removed member or a non-numeric id
  # gets, 429 what the login throttle answers (after five tries per username): none of them may
  # stop or stall the scan. Four requests at a time against the one server.
  "$sqlmap" -u "$base$path" --method "$method" ${body:+--data "$body"} \
    --cookie "chat_session=$token" -H "Origin: $base" "${skip[@]}" \
    --level 3 --risk 2 --batch --flush-session --disable-coloring --ignore-code 401,404,429 --threads 4 \
    --output-dir "$out/sqlmap" </dev/null >"$log" 2>&1 || true
  tests=$(grep -c "\[INFO\] testing '" "$log" || true)
  if grep -qE "identified the following injection point|is vulnerable" "$log"; then
    verdict="INJECTABLE"
    findings=$((findings + 1))
  elif ! grep -qE "does not seem to be injectable|do not appear to be injectable" "$log"; then
    # sqlmap reached no verdict on any parameter (it stopped early): that is not a pass.
    verdict="NOT RUN"
    failures=$((failures + 1))
  else
    verdict="clean"
  fi
  printf '%-10s %-6s %-45s %5d tests %4ds\n' "$verdict" "$method" "$path" "$tests" $((SECONDS - started))
done <"$targets"

echo "scan: $n requests, $findings with injection points, $failures not run (logs in $out/logs)"
[ "$findings" -eq 0 ] && [ "$failures" -eq 0 ]
