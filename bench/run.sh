#!/usr/bin/env bash
# The fast-path benchmark: the gateway (release build) on PostgreSQL, in front of the Calendly
# stand-in, under wrk. For every number of users and every stand-in latency it connects the
# users, warms the gateway up with one check each, then drives check-availability for a 7-day
# range over all of them at BENCH_CONNECTIONS connections, event types for 5 seconds, slots (every
# active event type, 7 days, Europe/Berlin), `/healthz` (what any request costs: the CPU of a
# check is compared with it), the floor (the same Calendly requests through bench-floor, a bare
# pass-through on the gateway's own HTTP stack: what any pass-through costs, beyond which the
# rest of a check is the gateway's own work), and the check-availability requests straight to
# the stand-in; then prints the tables.
#
#   bench/run.sh
#   BENCH_USERS="1000" BENCH_LATENCIES="0" BENCH_DURATION=10 bench/run.sh
#   BENCH_PERF=1 bench/run.sh      # also a CPU profile of the gateway (perf, cpu-clock)
#   BENCH_PERF=1 BENCH_PERF_GRAPH=dwarf BENCH_PERF_HZ=500 bench/run.sh   # call graphs without
#                                  # frame pointers (default fp, 2000 Hz)
#   BENCH_CONNECT=oauth bench/run.sh   # users connected through OAuth (default: pat, personal
#                                      # access tokens); steady state, tokens live two hours
#   BENCH_AVAILABILITY_TTL=30 bench/run.sh   # cache.availability_ttl_secs (default 0: every
#                                            # check reaches Calendly, the fast path itself)
#   BENCH_AVAILABILITY_TTL="30 0" bench/run.sh   # each in turn, in one run: the cached check and
#                                                # the pass-through, each beside its /healthz
#   BENCH_ORDER=random bench/run.sh    # each request for a user at random (default: in turn)
#   BENCH_PAIRS=6 bench/run.sh       # also six pairs of 5-second runs, checks then /healthz,
#                                    # each pair's ratio of CPU per request (BENCH_PAIR_SECONDS),
#                                    # and the floor's beside them
#
# Needs wrk (Debian: apt-get install wrk), python3, and PostgreSQL's server programs (a
# throwaway cluster is started, as for the tests) or BENCH_DATABASE_URL. Everything runs on
# this machine, on loopback. Not part of the test command.
set -euo pipefail
cd "$(dirname "$0")/.."

USERS_LIST=${BENCH_USERS:-"10 1000 10000"}
LATENCIES=${BENCH_LATENCIES:-"0 20"}
DURATION=${BENCH_DURATION:-15}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
CONNECT=${BENCH_CONNECT:-pat}
AVAILABILITY_TTLS=${BENCH_AVAILABILITY_TTL:-0}
ORDER=${BENCH_ORDER:-turn}
JWT_SECRET="bench-jwt-secret-$(date +%s)-0123456789abcdef"
ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)

command -v wrk >/dev/null || { echo "bench/run.sh needs wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked -p app-http -p calendly-stand-in -p bench-floor

OUT=$(mktemp -d "${TMPDIR:-/tmp}/calendly-gateway-bench.XXXXXX")
RESULTS="$OUT/results.jsonl"
# shellcheck source=bench/processes.sh
source bench/processes.sh

# A field of a JSON line: pair_field JSON NAME.
pair_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

# Waits for "listening on http://ADDRESS" in a log; prints the address.
wrk_run() {  # URL FILE [SECONDS] -> one JSON line
  wrk -t2 -c"$CONNECTIONS" -d"${3:-$DURATION}s" --timeout 10s -s bench/rotate.lua "$1" -- "$2" "$ORDER" | tail -n 1
}

for users in $USERS_LIST; do
  for latency in $LATENCIES; do
   for AVAILABILITY_TTL in $AVAILABILITY_TTLS; do
    run="u${users}_l${latency}_t${AVAILABILITY_TTL}"
    echo "== $users users, stand-in latency $latency ms, availability TTL $AVAILABILITY_TTL s" >&2
    # Calendly's per-user limit is the gateway's to follow, not the benchmark's to meet: the
    # stand-in allows far more (BENCH_RATE_LIMIT), so that every run measures speed alone.
    target/release/calendly-stand-in --port 0 --latency-ms "$latency" \
      --rate-limit-per-minute "${BENCH_RATE_LIMIT:-100000000}" >"$OUT/$run.stand-in.log" 2>&1 &
    stand_in_pid=$!
    PIDS+=("$stand_in_pid")
    stand_in="http://$(address_in "$OUT/$run.stand-in.log")"
    target/release/bench-floor --upstream "$stand_in" >"$OUT/$run.floor.log" 2>&1 &
    floor_pid=$!
    PIDS+=("$floor_pid")
    floor="http://$(address_in "$OUT/$run.floor.log")"

    database="bench_${run}_$$"
    "$PSQL" -q "$PG_URL" -c "CREATE DATABASE $database" >/dev/null
    APP__SERVER__PORT=0 \
    APP__DATABASE__URL="${PG_URL%/*}/$database" \
    APP__CALENDLY__API_BASE_URL="$stand_in" \
    APP__AUTH__JWT_SECRET="$JWT_SECRET" \
    APP__CALENDLY__TOKEN_ENCRYPTION_KEY="$ENCRYPTION_KEY" \
    APP__CALENDLY__AUTH_BASE_URL="$stand_in" \
    APP__CALENDLY__OAUTH__CLIENT_ID=stand-in-client \
    APP__CALENDLY__OAUTH__CLIENT_SECRET=stand-in-client-secret \
    APP__CALENDLY__OAUTH__REDIRECT_URI=http://127.0.0.1/calendly-connected \
    APP__CACHE__AVAILABILITY_TTL_SECS="$AVAILABILITY_TTL" \
      target/release/calendly-gateway serve >"$OUT/$run.gateway.log" 2>&1 &
    gateway_pid=$!
    PIDS+=("$gateway_pid")
    gateway="http://$(address_in "$OUT/$run.gateway.log")"

    python3 bench/driver.py setup "$gateway" "$stand_in" "$JWT_SECRET" "$users" "$OUT" "$CONNECT"
    python3 bench/driver.py calls "$stand_in" reset >/dev/null

    if [ -n "${BENCH_STRACE:-}" ]; then
      (sleep 2; timeout -s INT 5 strace -c -f -p "$gateway_pid" -o "$OUT/$run.strace.txt") >/dev/null 2>&1 &
    fi
    if [ -n "${BENCH_PERF:-}" ]; then
      perf record -e cpu-clock -F "${BENCH_PERF_HZ:-2000}" --call-graph "${BENCH_PERF_GRAPH:-fp}" -o "$OUT/$run.perf.data" -p "$gateway_pid" \
        -- sleep "$DURATION" >/dev/null 2>&1 &
      perf_pid=$!
    fi
    reads_before=$(python3 bench/driver.py dbreads "$gateway")
    before=$(python3 bench/driver.py proc "$gateway_pid")
    through=$(wrk_run "$gateway" "$OUT/gateway.tsv")
    after=$(python3 bench/driver.py proc "$gateway_pid")
    database_reads=$(( $(python3 bench/driver.py dbreads "$gateway") - reads_before ))
    if [ -n "${BENCH_PERF:-}" ]; then
      wait "$perf_pid" || true
      perf report -i "$OUT/$run.perf.data" --no-children --sort symbol --stdio 2>/dev/null \
        | grep -v '^#' | grep -v '^$' | head -n 40 >"$OUT/$run.profile.txt" || true
      echo "profile: $OUT/$run.profile.txt" >&2
    fi
    calendly_calls=$(python3 bench/driver.py calls "$stand_in" reset)
    # /healthz beside it, the same way: what any request costs the gateway.
    awk -F'\t' '{print $1"\t/healthz"}' "$OUT/gateway.tsv" >"$OUT/healthz.tsv"
    healthz_before=$(python3 bench/driver.py proc "$gateway_pid")
    healthz=$(wrk_run "$gateway" "$OUT/healthz.tsv")
    healthz_after=$(python3 bench/driver.py proc "$gateway_pid")
    # The same Calendly requests through the floor: its CPU per request, from its own /proc.
    floor_before=$(python3 bench/driver.py proc "$floor_pid")
    floor_run=$(wrk_run "$floor" "$OUT/stand_in.tsv")
    floor_after=$(python3 bench/driver.py proc "$floor_pid")
    # Pairs of short runs, a check run then a /healthz run each, when asked: the ratio of their
    # CPU per request in each pair, so that the machine's drift over the minutes of a run weighs
    # on both sides of each ratio alike.
    for ((pair = 1; pair <= ${BENCH_PAIRS:-0}; pair++)); do
      p0=$(python3 bench/driver.py proc "$gateway_pid")
      checks=$(wrk_run "$gateway" "$OUT/gateway.tsv" "${BENCH_PAIR_SECONDS:-5}")
      p1=$(python3 bench/driver.py proc "$gateway_pid")
      healths=$(wrk_run "$gateway" "$OUT/healthz.tsv" "${BENCH_PAIR_SECONDS:-5}")
      p2=$(python3 bench/driver.py proc "$gateway_pid")
      f0=$(python3 bench/driver.py proc "$floor_pid")
      floors=$(wrk_run "$floor" "$OUT/stand_in.tsv" "${BENCH_PAIR_SECONDS:-5}")
      f1=$(python3 bench/driver.py proc "$floor_pid")
      python3 -c 'import sys; c, cr, h, hr, f, fr = map(int, sys.argv[1:]); c, h, f = c / cr * 1e4, h / hr * 1e4, f / fr * 1e4; print(f"pair: check {c:.1f} us, /healthz {h:.2f} us, ratio {c / h:.2f}; floor {f:.1f} us ({f / h:.2f} x /healthz)")' \
        "$(( $(pair_field "$p1" cpu_ticks) - $(pair_field "$p0" cpu_ticks) ))" "$(pair_field "$checks" requests)" \
        "$(( $(pair_field "$p2" cpu_ticks) - $(pair_field "$p1" cpu_ticks) ))" "$(pair_field "$healths" requests)" \
        "$(( $(pair_field "$f1" cpu_ticks) - $(pair_field "$f0" cpu_ticks) ))" "$(pair_field "$floors" requests)" \
        | sed "s/^/TTL $AVAILABILITY_TTL s, /" | tee -a "$OUT/pairs.txt" >&2
    done
    # Listing event types, every user's remembered since the warm-up: no Calendly call (the
    # calls of the pairs' checks before it are not counted).
    python3 bench/driver.py calls "$stand_in" reset >/dev/null
    event_types=$(wrk_run "$gateway" "$OUT/event_types.tsv" 5)
    event_types_calls=$(python3 bench/driver.py calls "$stand_in" reset)
    # Slots: every active event type (3 of the stand-in's 4), 7 days, in Europe/Berlin.
    slots_before=$(python3 bench/driver.py proc "$gateway_pid")
    slots=$(wrk_run "$gateway" "$OUT/slots.tsv")
    slots_after=$(python3 bench/driver.py proc "$gateway_pid")
    slots_calls=$(python3 bench/driver.py calls "$stand_in")
    direct=$(wrk_run "$stand_in" "$OUT/stand_in.tsv")

    HEALTHZ="$healthz" HEALTHZ_BEFORE="$healthz_before" HEALTHZ_AFTER="$healthz_after" \
    FLOOR="$floor_run" FLOOR_BEFORE="$floor_before" FLOOR_AFTER="$floor_after" \
    DATABASE_READS=$database_reads AVAILABILITY_TTL=$AVAILABILITY_TTL ORDER=$ORDER python3 - "$CONNECT" "$users" "$latency" "$before" "$after" "$through" "$direct" "$calendly_calls" \
      "$event_types" "$event_types_calls" "$slots" "$slots_before" "$slots_after" "$slots_calls" >>"$RESULTS" <<'PY'
import json, os, sys
(connect, users, latency, before, after, through, direct, calls, event_types, event_types_calls,
 slots, slots_before, slots_after, slots_calls) = sys.argv[1:]
before, after = json.loads(before), json.loads(after)
slots_before, slots_after = json.loads(slots_before), json.loads(slots_after)
print(json.dumps({
    "connect": connect, "users": int(users), "latency_ms": int(latency),
    "availability_ttl": int(os.environ["AVAILABILITY_TTL"]), "order": os.environ["ORDER"],
    "gateway": json.loads(through), "direct": json.loads(direct),
    "cpu_ticks": after["cpu_ticks"] - before["cpu_ticks"], "ticks_per_s": after["ticks_per_s"],
    "peak_rss_kb": after["peak_rss_kb"], "calendly_calls": int(calls),
    "event_types": json.loads(event_types), "event_types_calendly_calls": int(event_types_calls),
    "slots": json.loads(slots), "slots_calendly_calls": int(slots_calls),
    "slots_cpu_ticks": slots_after["cpu_ticks"] - slots_before["cpu_ticks"],
    "database_reads": int(os.environ["DATABASE_READS"]),
    "healthz": json.loads(os.environ["HEALTHZ"]),
    "healthz_cpu_ticks": json.loads(os.environ["HEALTHZ_AFTER"])["cpu_ticks"]
        - json.loads(os.environ["HEALTHZ_BEFORE"])["cpu_ticks"],
    "floor": json.loads(os.environ["FLOOR"]),
    "floor_cpu_ticks": json.loads(os.environ["FLOOR_AFTER"])["cpu_ticks"]
        - json.loads(os.environ["FLOOR_BEFORE"])["cpu_ticks"],
}))
PY
    tail -n 1 "$RESULTS" >&2
    kill -TERM "$gateway_pid"; wait "$gateway_pid" 2>/dev/null || true
    kill "$floor_pid" "$stand_in_pid" 2>/dev/null || true
    "$PSQL" -q "$PG_URL" -c "DROP DATABASE $database WITH (FORCE)" >/dev/null
   done
  done
done

echo
echo "$CONNECTIONS connections, ${DURATION}s per run, $(nproc) CPUs ($(uname -m)); gateway CPU from /proc, over the run through the gateway"
python3 bench/driver.py table "$RESULTS"
