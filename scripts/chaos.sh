#!/usr/bin/env bash
# The fault run: three gateway instances on one PostgreSQL and one Redis, in front of the
# Calendly stand-in, under load, while Redis is killed and started again and frozen past its
# deadline (SIGSTOP/SIGCONT), the listeners' database backends and then every backend are
# terminated, PostgreSQL is restarted, bookings are made at the stand-in (delivered by webhook) and users reconnect to
# other Calendly accounts. scripts/chaos.py drives it and checks every answer against what it
# knows; it prints a table of faults, requests and violations and fails on any violation.
#
#   scripts/chaos.sh                      # 5 minutes
#   CHAOS_SECONDS=40 scripts/chaos.sh     # the short run CI makes
#   CHAOS_RELEASE=1 scripts/chaos.sh      # release builds (default: the debug builds)
#
# Loopback only; every process it starts (a throwaway PostgreSQL cluster, redis-server, the
# stand-in, the gateways) is stopped when it ends, and it ends by itself. Needs python3,
# redis-server and PostgreSQL's server programs.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_TO_RUN=${CHAOS_SECONDS:-300}
USERS=${CHAOS_USERS:-12}
JWT_SECRET="chaos-jwt-secret-$(date +%s)-0123456789abcdef"
ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)

command -v redis-server >/dev/null || { echo "scripts/chaos.sh needs redis-server" >&2; exit 1; }
if [ -n "${CHAOS_RELEASE:-}" ]; then
  cargo build --release --locked -p app-http -p calendly-stand-in
  BIN=target/release
else
  cargo build --locked -p app-http -p calendly-stand-in
  BIN=target/debug
fi

# shellcheck source=scripts/pg.sh
source scripts/pg.sh
# shellcheck source=scripts/processes.sh
source scripts/processes.sh
use_work_dir chaos
stop_all() {
  # Redis first: started again by the run, it is not among PIDS, and stop_processes waits.
  if [ -s "${REDIS_PID_FILE:-}" ]; then kill -CONT "$(cat "$REDIS_PID_FILE")" 2>/dev/null || true; kill "$(cat "$REDIS_PID_FILE")" 2>/dev/null || true; fi
  stop_processes
  stop_throwaway_cluster
}
trap stop_all EXIT
start_throwaway_cluster
PSQL=$(command -v psql || echo "$(find_pg_bin)/psql")
"$PSQL" -q "$PG_URL" -c "CREATE DATABASE chaos" >/dev/null
DATABASE_URL="${PG_URL%/*}/chaos"

REDIS_PORT=$(free_port)
REDIS_PID_FILE="$WORK/redis.pid"
export REDIS_PORT REDIS_PID_FILE WORK
start_redis() {
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir "$WORK" \
    >>"$WORK/redis.log" 2>&1 &
  echo $! >"$REDIS_PID_FILE"
  until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do sleep 0.05; done
}
start_redis

"$BIN/calendly-stand-in" --port 0 >"$WORK/stand-in.log" 2>&1 &
PIDS+=($!)
stand_in="http://$(address_in "$WORK/stand-in.log")"

gateways=()
for name in a b c; do
  port=$(free_port)
  APP__SERVER__PORT=$port \
  APP__SERVER__WORKERS=2 \
  APP__DATABASE__URL="$DATABASE_URL" \
  APP__CALENDLY__API_BASE_URL="$stand_in" \
  APP__CALENDLY__AUTH_BASE_URL="$stand_in" \
  APP__AUTH__JWT_SECRET="$JWT_SECRET" \
  APP__CALENDLY__TOKEN_ENCRYPTION_KEY="$ENCRYPTION_KEY" \
  APP__CACHE__REDIS_URL="redis://127.0.0.1:$REDIS_PORT" \
  APP__CACHE__AVAILABILITY_TTL_SECS=600 \
  APP__CACHE__EVENT_TYPES_TTL_SECS=600 \
  APP__WEBHOOKS__PUBLIC_BASE_URL="http://127.0.0.1:$port" \
    "$BIN/calendly-gateway" serve >"$WORK/gateway-$name.log" 2>&1 &
  PIDS+=($!)
  gateways+=("http://$(address_in "$WORK/gateway-$name.log")")
done

# What the run may do to the processes, as commands.
PG_RESTART="${PG_RUN_AS[*]} $PG_CTL -D $PG_TMP/data -m fast -w -t 30 restart"
TERMINATE_LISTENERS="$PSQL -q $PG_URL -c \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'calendly-gateway-listener'\""
REDIS_START="redis-server --bind 127.0.0.1 --port $REDIS_PORT --save '' --appendonly no --dir $WORK >>$WORK/redis.log 2>&1 & echo \$! >$REDIS_PID_FILE; until redis-cli -p $REDIS_PORT ping >/dev/null 2>&1; do sleep 0.05; done"
TERMINATE_BACKENDS="$PSQL -q $PG_URL -c \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'chaos' AND pid <> pg_backend_pid()\""
export PG_RESTART TERMINATE_LISTENERS TERMINATE_BACKENDS REDIS_START

python3 scripts/chaos.py --seconds "$SECONDS_TO_RUN" --users "$USERS" --secret "$JWT_SECRET" \
  --stand-in "$stand_in" --gateways "$(IFS=,; echo "${gateways[*]}")"
