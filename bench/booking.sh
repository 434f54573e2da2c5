#!/usr/bin/env bash
# Bookings timed through the gateway and straight at the Calendly stand-in (bench/booking.py):
# release builds, a throwaway PostgreSQL (or BENCH_DATABASE_URL), the stand-in's booking limit
# lifted (Calendly's is the gateway's to follow, not the benchmark's to meet), the gateway with
# its default configuration (available times cached 30 s).
#
#   bench/booking.sh                                  # 200 bookings a side, 4 at once
#   BENCH_BOOKINGS=500 BENCH_CONCURRENCY=8 bench/booking.sh
set -euo pipefail
cd "$(dirname "$0")/.."

BOOKINGS=${BENCH_BOOKINGS:-200}
CONCURRENCY=${BENCH_CONCURRENCY:-4}
LATENCY=${BENCH_LATENCY:-0}
# Each user's first event type has 56 times a week: enough users for every booking, half a side.
USERS=$(( (BOOKINGS / 50 + 1) * 2 ))
JWT_SECRET="bench-jwt-secret-$(date +%s)-0123456789abcdef"
ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)

cargo build --release --locked -p app-http -p calendly-stand-in

OUT=$(mktemp -d "${TMPDIR:-/tmp}/calendly-gateway-booking.XXXXXX")
# shellcheck source=bench/processes.sh
source bench/processes.sh

target/release/calendly-stand-in --port 0 --latency-ms "$LATENCY" \
  --rate-limit-per-minute 100000000 --booking-limit 100000000 100000000 100000000 \
  >"$OUT/stand-in.log" 2>&1 &
PIDS+=($!)
stand_in="http://$(address_in "$OUT/stand-in.log")"

database="bench_booking_$$"
"$PSQL" -q "$PG_URL" -c "CREATE DATABASE $database" >/dev/null
APP__SERVER__PORT=0 \
APP__DATABASE__URL="${PG_URL%/*}/$database" \
APP__CALENDLY__API_BASE_URL="$stand_in" \
APP__AUTH__JWT_SECRET="$JWT_SECRET" \
APP__CALENDLY__TOKEN_ENCRYPTION_KEY="$ENCRYPTION_KEY" \
  target/release/calendly-gateway serve >"$OUT/gateway.log" 2>&1 &
PIDS+=($!)
gateway="http://$(address_in "$OUT/gateway.log")"

python3 bench/driver.py setup "$gateway" "$stand_in" "$JWT_SECRET" "$USERS" "$OUT" pat
echo "== $BOOKINGS bookings a side, $CONCURRENCY at once, stand-in latency $LATENCY ms" >&2
(cd bench && python3 booking.py "$gateway" "$stand_in" "$OUT" "$BOOKINGS" "$CONCURRENCY")
