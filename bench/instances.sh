#!/usr/bin/env bash
# Many instances side by side: 1 gateway and 3 gateways (release builds) on one PostgreSQL, with
# Redis as their shared cache tier, and 3 without it, in front of the Calendly stand-in, under
# wrk. For each it connects the users through the first instance, warms it up with one check
# each, then drives check-availability for a 7-day range over all users at BENCH_CONNECTIONS
# connections in all, split evenly over the instances (one wrk each), for BENCH_DURATION
# seconds (longer than the availability TTL, so that windows expire and are asked again), and
# prints, per setup: checks a second (all instances together), Calendly calls per check,
# gateway CPU per check (all instances), Redis CPU per check.
#
#   bench/instances.sh
#   BENCH_USERS=1000 BENCH_DURATION=40 BENCH_AVAILABILITY_TTL=30 bench/instances.sh
#   BENCH_SETUPS="3:redis" bench/instances.sh      # instances:redis|alone, space separated
#
# Needs wrk, python3, redis-server (a server of its own is started on a free port), and
# PostgreSQL's server programs (a throwaway cluster) or BENCH_DATABASE_URL. Not part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${BENCH_USERS:-1000}
DURATION=${BENCH_DURATION:-40}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
AVAILABILITY_TTL=${BENCH_AVAILABILITY_TTL:-30}
LATENCY=${BENCH_LATENCY:-0}
SETUPS=${BENCH_SETUPS:-"1:redis 3:redis 3:alone"}
JWT_SECRET="bench-jwt-secret-$(date +%s)-0123456789abcdef"
ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)

command -v wrk >/dev/null || { echo "bench/instances.sh needs wrk (apt-get install wrk)" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "bench/instances.sh needs redis-server" >&2; exit 1; }
cargo build --release --locked -p app-http -p calendly-stand-in

# shellcheck source=scripts/pg.sh
source scripts/pg.sh
# shellcheck source=scripts/processes.sh
source scripts/processes.sh
use_work_dir instances
OUT=$WORK
RESULTS="$OUT/results.jsonl"
trap 'stop_processes; stop_throwaway_cluster' EXIT
bench_database

redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$OUT" >"$OUT/redis.log" 2>&1 &
redis_pid=$!
PIDS+=("$redis_pid")
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done

target/release/calendly-stand-in --port 0 --latency-ms "$LATENCY" \
  --rate-limit-per-minute 100000000 >"$OUT/stand-in.log" 2>&1 &
PIDS+=($!)
stand_in="http://$(address_in "$OUT/stand-in.log")"

for setup in $SETUPS; do
  count=${setup%%:*}
  shared=${setup##*:}
  run="i${count}_${shared}"
  echo "== $count instance(s), $shared" >&2
  redis-cli -p "$redis_port" flushall >/dev/null
  database="bench_${run}_$$"
  "$PSQL" -q "$PG_URL" -c "CREATE DATABASE $database" >/dev/null
  redis_url=""
  [ "$shared" = redis ] && redis_url="redis://127.0.0.1:$redis_port/0"
  gateways=()
  gateway_pids=()
  for i in $(seq 1 "$count"); do
    APP__SERVER__PORT=0 \
    APP__DATABASE__URL="${PG_URL%/*}/$database" \
    APP__CALENDLY__API_BASE_URL="$stand_in" \
    APP__AUTH__JWT_SECRET="$JWT_SECRET" \
    APP__CALENDLY__TOKEN_ENCRYPTION_KEY="$ENCRYPTION_KEY" \
    APP__CACHE__AVAILABILITY_TTL_SECS="$AVAILABILITY_TTL" \
      env ${redis_url:+APP__CACHE__REDIS_URL="$redis_url"} target/release/calendly-gateway serve >"$OUT/$run.gateway$i.log" 2>&1 &
    gateway_pids+=($!)
    PIDS+=($!)
    gateways+=("http://$(address_in "$OUT/$run.gateway$i.log")")
  done

  python3 bench/driver.py setup "${gateways[0]}" "$stand_in" "$JWT_SECRET" "$USERS" "$OUT" pat
  python3 bench/driver.py calls "$stand_in" reset >/dev/null

  procs_before=$(for pid in "${gateway_pids[@]}" "$redis_pid"; do python3 bench/driver.py proc "$pid"; done | paste -sd,)
  threads=$(( count == 1 ? 2 : 1 ))
  per_instance=$(( CONNECTIONS / count ))
  wrk_pids=()
  for i in "${!gateways[@]}"; do
    wrk -t"$threads" -c"$per_instance" -d"${DURATION}s" --timeout 10s -s bench/rotate.lua \
      "${gateways[$i]}" -- "$OUT/gateway.tsv" turn | tail -n 1 >"$OUT/$run.wrk$i.json" &
    wrk_pids+=($!)
  done
  wait "${wrk_pids[@]}"
  procs_after=$(for pid in "${gateway_pids[@]}" "$redis_pid"; do python3 bench/driver.py proc "$pid"; done | paste -sd,)
  calls=$(python3 bench/driver.py calls "$stand_in" reset)

  python3 - "$count" "$shared" "[$procs_before]" "[$procs_after]" "$calls" "$OUT/$run" >>"$RESULTS" <<'PY'
import glob, json, sys
count, shared, before, after, calls, prefix = sys.argv[1:]
before, after = json.loads(before), json.loads(after)
runs = [json.load(open(path)) for path in sorted(glob.glob(prefix + ".wrk*.json"))]
requests = sum(r["requests"] for r in runs)
seconds = max(r["duration_us"] for r in runs) / 1e6
ticks = after[0]["ticks_per_s"]
gateway_ticks = sum(a["cpu_ticks"] - b["cpu_ticks"] for b, a in zip(before[:-1], after[:-1]))
redis_ticks = after[-1]["cpu_ticks"] - before[-1]["cpu_ticks"]
print(json.dumps({
    "instances": int(count), "shared": shared, "requests": requests,
    "checks_per_s": round(requests / seconds), "non_2xx": sum(r["non_2xx"] for r in runs),
    "socket_errors": sum(r["socket_errors"] for r in runs),
    "calls_per_check": round(int(calls) / max(requests, 1), 4),
    "gateway_cpu_us_per_check": round(gateway_ticks / ticks * 1e6 / max(requests, 1), 1),
    "redis_cpu_us_per_check": round(redis_ticks / ticks * 1e6 / max(requests, 1), 1) if shared == "redis" else None,
    "p50_ms": round(max(r["p50_us"] for r in runs) / 1000, 2),
    "peak_rss_mb": [round(a["peak_rss_kb"] / 1024, 1) for a in after[:-1]],
}))
PY
  tail -n 1 "$RESULTS" >&2
  for pid in "${gateway_pids[@]}"; do kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; done
  "$PSQL" -q "$PG_URL" -c "DROP DATABASE $database WITH (FORCE)" >/dev/null
done

echo
echo "$USERS users in turn, $CONNECTIONS connections in all, ${DURATION}s, availability TTL ${AVAILABILITY_TTL}s, stand-in latency ${LATENCY} ms, $(nproc) CPUs"
python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print("| instances | shared tier | checks/s | Calendly calls/check | gateway CPU µs/check | Redis CPU µs/check | p50 ms | non-2xx |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for r in rows:
    redis = "–" if r["redis_cpu_us_per_check"] is None else r["redis_cpu_us_per_check"]
    print(f'| {r["instances"]} | {r["shared"]} | {r["checks_per_s"]:,} | {r["calls_per_check"]} | {r["gateway_cpu_us_per_check"]} | {redis} | {r["p50_ms"]} | {r["non_2xx"]} |')
PY
