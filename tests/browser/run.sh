#!/usr/bin/env bash
# Browser end-to-end tests of the web client against the real reference server.
# Expects the server binary to be built (CHAT_SERVER_BIN, default target/debug/reference-server).
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
fi

export CHAT_SERVER_BIN="${CHAT_SERVER_BIN:-$(pwd)/../../target/debug/reference-server}"
if [ ! -x "$CHAT_SERVER_BIN" ]; then
  echo "reference server binary not found at $CHAT_SERVER_BIN (build it with: cargo build -p reference-server)" >&2
  exit 1
fi

# playwright-core only drives the system Chromium: never let it download a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm ci --no-audit --no-fund --loglevel=error
mkdir -p artifacts
exec node --test --test-concurrency=1 --test-timeout=180000 tests/*.test.js
