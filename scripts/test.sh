#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, API docs, dependency audit and policy, Rust
# tests (unit, conformance on in-memory/SQLite/MariaDB/PostgreSQL, WebSocket over real sockets
# and against the Autobahn cases, property tests, end-to-end server tests), the examples, the
# SQL injection scan and the browser tests in Debian's Chromium. Installs what it needs
# (cargo-audit and cargo-deny if missing, kosoku and sqlmap, npm packages, chromium). With
# CI=true, a test that cannot reach its service fails.
set -euo pipefail
cd "$(dirname "$0")/.."

export CHATCORE_TEST_MYSQL_URL="${CHATCORE_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306}"
export CHATCORE_TEST_POSTGRES_URL="${CHATCORE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
export CHATCORE_TEST_REDIS_URL="${CHATCORE_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# One build from scratch gains nothing from incremental compilation, whose caches add gigabytes
# to target/ (a full disk once killed the linker mid-build: "ld terminated with signal 7").
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# Each step says when it started (seconds into the run), so a CI log shows what takes the time.
step() { printf '\n==> [%ds] %s\n' "$SECONDS" "$*"; }

step "formatting"
cargo fmt --all --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

# Every public item's docs build, and every intra-doc link resolves (a broken or ambiguous link
# is an error, not a warning).
step "API docs"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

# Known vulnerabilities in dependencies, against the offline RustSec database when it is here
# (the advisory repository itself is not reachable from the build machines). cargo-audit and
# cargo-deny are installed from crates.io when missing, like the other tools this script needs.
advisories="${CHAT_ADVISORY_DB:-../shared/advisory-db}"
if [ -d "$advisories" ]; then
  if ! cargo audit --version >/dev/null 2>&1; then
    step "installing cargo-audit"
    cargo install --locked cargo-audit
  fi
  step "dependency audit"
  cargo audit --db "$advisories" --no-fetch
  if ! cargo deny --version >/dev/null 2>&1; then
    step "installing cargo-deny"
    cargo install --locked cargo-deny
  fi
  step "dependency policy (cargo deny: advisories, licenses, duplicate versions, sources)"
  bash scripts/deny-db.sh "$advisories"
  # --offline keeps cargo-deny from fetching its database, and also cargo metadata from fetching
  # crates: fetch them first (all platforms', which the build alone would not download).
  cargo fetch --locked --quiet
  cargo deny --offline --locked check
else
  step "dependency audit and policy skipped (no advisory database at $advisories)"
fi

# The Python tools of the security checks, in a virtualenv under target/ so the machine's Python
# stays as it was: kosoku drives the Autobahn cases in the WebSocket conformance test, sqlmap
# the injection scan (scripts/scan.sh).
pyenv="target/pyenv"
if ! cmp -s scripts/security-tools.txt "$pyenv/security-tools.txt"; then
  step "installing the Python security tools into $pyenv"
  python3 -m venv "$pyenv"
  "$pyenv/bin/pip" install --quiet --disable-pip-version-check -r scripts/security-tools.txt
  cp scripts/security-tools.txt "$pyenv/security-tools.txt"
fi
export CHAT_KOSOKU="$PWD/$pyenv/bin/kosoku" CHAT_SQLMAP="$PWD/$pyenv/bin/sqlmap"

step "build"
cargo build --workspace --all-targets --locked

step "Rust tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  cargo test --workspace --doc --locked
else
  cargo test --workspace --locked --no-fail-fast
fi

step "examples"
cargo run --quiet --locked -p chat-examples --example in_memory_dm

# sqlmap against every REST parameter of a running server (docs/security.md, "Injection scan").
step "SQL injection scan"
CHAT_SERVER_BIN="$PWD/target/debug/reference-server" bash scripts/scan.sh

if [ -x tests/browser/run.sh ]; then
  step "browser tests"
  CHAT_SERVER_BIN="$PWD/target/debug/reference-server" tests/browser/run.sh
fi
