#!/usr/bin/env bash
# Puts the offline RustSec database (a plain copy, not a git clone) where cargo-deny looks for
# it, so `cargo deny --offline check` audits against the same advisories as `cargo audit`.
#
# cargo-deny opens `<db-path>/<name>-<hash of the URL>` (db-path is in deny.toml; the hash is of
# its default URL, https://github.com/RustSec/advisory-db) and takes the database's age from
# the modification time of `.git/FETCH_HEAD`. That time is set to the newest advisory's date, so
# deny.toml's maximum-db-staleness measures the real age of the copy.
set -euo pipefail
cd "$(dirname "$0")/.."

source="${1:?usage: scripts/deny-db.sh PATH-TO-ADVISORY-DB}"
target="target/advisory-dbs/advisory-db-3157b0e258782691"

rm -rf "$target"
mkdir -p "$target/.git"
cp -R "$source/crates" "$target/crates"
newest=$(grep -rhoE '^date = "[0-9]{4}-[0-9]{2}-[0-9]{2}"' "$source/crates" | cut -d'"' -f2 | sort | tail -1)
touch -d "$newest" "$target/.git/FETCH_HEAD"
echo "advisory database: $(find "$target/crates" -name '*.md' | wc -l) advisories, newest from $newest"
