#!/usr/bin/env bash
# Renders /docs in headless Chromium with every request outside loopback sent to a dead proxy,
# so the page must render from what the gateway itself serves. Checks that the rendered page
# lists every endpoint of the contract, and writes a screenshot.
#
#   scripts/docs-screenshot.sh [SCREENSHOT.png]     (default: target/docs.png)
#
# Needs chromium (apt-get install chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

SCREENSHOT=${1:-target/docs.png}
CHROMIUM=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$CHROMIUM" ] || { echo "scripts/docs-screenshot.sh needs chromium (apt-get install chromium)" >&2; exit 1; }

cargo build --locked --workspace --all-targets

# shellcheck source=scripts/processes.sh
source scripts/processes.sh
use_work_dir docs

APP__SERVER__PORT=0 APP__DATABASE__URL="sqlite://$WORK/gateway.db" \
  target/debug/calendly-gateway serve >"$WORK/gateway.log" 2>&1 &
PIDS+=($!)
gateway="http://$(address_in "$WORK/gateway.log")"

browse() {
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$WORK/profile" \
    --proxy-server="http://127.0.0.1:9" --proxy-bypass-list="127.0.0.1" \
    --window-size=1280,1800 --virtual-time-budget=10000 "$@" "$gateway/docs" 2>/dev/null
}

browse --dump-dom >"$WORK/dom.html"
missing=0
for endpoint in /calendly/connection /calendly/user /calendly/user-event-types \
  /calendly/check-availability /healthz /readyz /metrics /openapi.json /docs; do
  if ! grep -q "data-path=\"$endpoint\"" "$WORK/dom.html"; then
    echo "the rendered /docs page does not list $endpoint" >&2
    missing=1
  fi
done
[ "$missing" = 0 ] || exit 1

mkdir -p "$(dirname "$SCREENSHOT")"
browse --screenshot="$(realpath -m "$SCREENSHOT")" >/dev/null
echo "/docs rendered with no network and lists every endpoint; screenshot: $SCREENSHOT"
