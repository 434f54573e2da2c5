#!/usr/bin/env bash
# Property-based run of schemathesis against the running gateway's own /openapi.json: a fresh
# gateway (embedded SQLite in a temporary folder) on the Calendly stand-in (its API and its OAuth
# server, OAuth on with the callback answering JSON), with a valid access token and a connected
# Calendly account. It fails on any server error that is not a documented
# upstream status, any response that violates the schema, and any undocumented status code.
#
#   scripts/schemathesis.sh [extra arguments for schemathesis run]
#
# SCHEMATHESIS_MAX_EXAMPLES (default 1000) bounds the examples per operation. schemathesis is
# installed from PyPI, once, into a virtual environment under ~/.cache/calendly-gateway.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-1000}
VENV="${XDG_CACHE_HOME:-$HOME/.cache}/calendly-gateway/schemathesis-$SCHEMATHESIS_VERSION"

if [ ! -x "$VENV/bin/schemathesis" ]; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# The same build as the tests (their features), so that after them this builds nothing.
cargo build --locked --workspace --all-targets

# shellcheck source=scripts/processes.sh
source scripts/processes.sh
use_work_dir schemathesis

# One user asks thousands of questions a minute here: Calendly's per-user limit (followed by
# the gateway, tested in tests/api/rate_budget.rs) is lifted so that the run reaches every path.
target/debug/calendly-stand-in --port 0 --rate-limit-per-minute 100000000 >"$WORK/stand-in.log" 2>&1 &
PIDS+=($!)
stand_in="http://$(address_in "$WORK/stand-in.log")"

export APP__SERVER__PORT=0
export APP__DATABASE__URL="sqlite://$WORK/gateway.db"
export APP__CALENDLY__API_BASE_URL="$stand_in"
export APP__CALENDLY__AUTH_BASE_URL="$stand_in"
export APP__CALENDLY__OAUTH__CLIENT_ID=stand-in-client
export APP__CALENDLY__OAUTH__CLIENT_SECRET=stand-in-client-secret
export APP__CALENDLY__OAUTH__REDIRECT_URI=http://127.0.0.1/calendly/oauth/callback
export APP__CALENDLY__OAUTH__RETURN_URL=http://127.0.0.1/settings/calendly

target/debug/calendly-gateway serve >"$WORK/gateway.log" 2>&1 &
PIDS+=($!)
gateway="http://$(address_in "$WORK/gateway.log")"

token=$(target/debug/calendly-gateway token --user-id schemathesis-user --ttl-secs 3600)
connected=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "$gateway/calendly/connection" \
  -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"personal_access_token": "stand-in-token-of-the-fuzzed-user"}')
if [ "$connected" != 200 ]; then
  echo "connecting the Calendly stand-in failed: $connected" >&2; cat "$WORK/gateway.log" >&2; exit 1
fi

# Every check that applies to this API. Excluded: positive_data_acceptance, since a valid time
# range may still be refused by Calendly's own rules; use_after_free and
# ensure_resource_availability, which need resources created by POST, and this API has none.
checks=not_a_server_error,status_code_conformance,content_type_conformance
checks+=,response_headers_conformance,response_schema_conformance,negative_data_rejection
checks+=,missing_required_header,unsupported_method,ignored_auth

once() {
  SCHEMATHESIS_HOOKS=scripts/schemathesis_hooks.py "$VENV/bin/schemathesis" run "$gateway/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks "$checks" \
    --max-examples "$MAX_EXAMPLES" \
    --seed "${SCHEMATHESIS_SEED:-$RANDOM}" \
    --workers 2 \
    --request-timeout 15 \
    --suppress-health-check too_slow \
    "$@"
}
# A run whose only errors are schemathesis's own crashes ("Runtime Error": an exception inside
# the tool, such as hypothesis describing a filter from two workers at once), with no failure
# of any check, is run once more; a failure, or any other error, fails at once.
run() {
  local out="$WORK/schemathesis.out" status=0
  once "$@" 2>&1 | tee "$out" || status=$?
  [ "$status" -eq 0 ] && return 0
  if ! grep -q '^Failures:' "$out" \
    && grep -q '^Errors:' "$out" \
    && ! sed -n '/^Errors:/,/^$/p' "$out" | grep '🚫' | grep -vq 'Runtime Error:'; then
    echo "== schemathesis crashed inside itself (no check failed): running once more"
    once "$@"
    return
  fi
  return "$status"
}

# Disconnecting first would leave most of the run answering 404: DELETE comes last.
echo "== schemathesis: every operation but DELETE, at most $MAX_EXAMPLES examples each"
run --exclude-method DELETE "$@"
echo "== schemathesis: DELETE"
run --include-method DELETE "$@"

echo "== what the run exercised (the gateway's /metrics)"
curl -sS "$gateway/metrics" | grep -E '^(http_requests_total|calendly_calls_total)' | sort
