#!/usr/bin/env bash
# The web client (web/): builds it from its sources and the checked-in docs/openapi.json, fails
# when the committed build (web/dist, web/src/gateway.d.ts) differs from what the sources make,
# then runs its browser tests in Debian's Chromium against the gateway and stand-in binaries.
# A skipped, cancelled or missing browser test fails it.
#
#   scripts/web.sh            # what CI runs
#   scripts/web.sh --build    # only rebuild web/dist (after changing web/src or the API)
#
# Needs Node.js 20+ and npm (packages from the npm registry, locked in web/package-lock.json;
# never a browser download) and chromium (scripts/install-chromium.sh installs it as root).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v npm >/dev/null || { echo "scripts/web.sh needs Node.js 20 or newer and npm" >&2; exit 1; }
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
if [ "${1:-}" = "--build" ]; then
  exit 0
fi

changed=$(git status --porcelain -- web/dist web/src/gateway.d.ts)
if [ -n "$changed" ]; then
  echo "the committed web client is not what its sources build; run scripts/web.sh --build and commit:" >&2
  echo "$changed" >&2
  git --no-pager diff --stat -- web/dist web/src/gateway.d.ts >&2
  exit 1
fi
echo "web/dist is what web/src and docs/openapi.json build"

scripts/install-chromium.sh >/dev/null
CHROMIUM=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
export CHROMIUM
cargo build --locked -p app-http -p calendly-stand-in

report=$(mktemp)
trap 'rm -f "$report"' EXIT
status=0
(cd web && node --test --test-concurrency=1 --test-reporter=tap tests/) >"$report" 2>&1 || status=$?
grep -E '^# (tests|pass|fail|cancelled|skipped|todo) ' "$report" || true
if [ "$status" != 0 ]; then
  cat "$report" >&2
  exit "$status"
fi
for kind in fail cancelled skipped todo; do
  if ! grep -qE "^# $kind 0$" "$report"; then
    cat "$report" >&2
    echo "browser tests: some were $kind" >&2
    exit 1
  fi
done
if ! grep -qE '^# pass [1-9]' "$report"; then
  cat "$report" >&2
  echo "browser tests: none passed" >&2
  exit 1
fi
echo "browser tests passed; screenshots in target/web/"
