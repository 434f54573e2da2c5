#!/usr/bin/env bash
# The load run: many users, a mix of every Calendly endpoint, bounded in time, on loopback.
# It fails unless every request succeeds, at least LOAD_MIN_REQUESTS were made, and the
# gateway's memory does not grow after warm-up. Not part of the test command.
#
#   bench/load.sh
#
# LOAD_USERS (default 2000), LOAD_ROUNDS (4) of LOAD_ROUND_SECS (15) after a warm-up round,
# LOAD_LATENCY_MS (5: the stand-in's added latency), LOAD_CONNECTIONS (64),
# LOAD_MIN_REQUESTS (50000), LOAD_MAX_GROWTH_KB (4096: RSS growth allowed from the end of the
# first measured round to the end of the last). BENCH_DATABASE_URL: use that PostgreSQL instead
# of a throwaway one. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${LOAD_USERS:-2000}
ROUNDS=${LOAD_ROUNDS:-4}
ROUND_SECS=${LOAD_ROUND_SECS:-15}
LATENCY=${LOAD_LATENCY_MS:-5}
CONNECTIONS=${LOAD_CONNECTIONS:-64}
MIN_REQUESTS=${LOAD_MIN_REQUESTS:-50000}
MAX_GROWTH_KB=${LOAD_MAX_GROWTH_KB:-4096}
JWT_SECRET="load-jwt-secret-$(date +%s)-0123456789abcdef"
ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)

command -v wrk >/dev/null || { echo "bench/load.sh needs wrk (apt-get install wrk)" >&2; exit 1; }
cargo build --release --locked -p app-http -p calendly-stand-in

# shellcheck source=scripts/pg.sh
source scripts/pg.sh
# shellcheck source=scripts/processes.sh
source scripts/processes.sh
use_work_dir load
trap 'stop_processes; stop_throwaway_cluster' EXIT
bench_database

target/release/calendly-stand-in --port 0 --latency-ms "$LATENCY" --rate-limit-per-minute 100000000 >"$WORK/stand-in.log" 2>&1 &
PIDS+=($!)
stand_in="http://$(address_in "$WORK/stand-in.log")"
APP__SERVER__PORT=0 \
APP__DATABASE__URL="$PG_URL" \
APP__CALENDLY__API_BASE_URL="$stand_in" \
APP__AUTH__JWT_SECRET="$JWT_SECRET" \
APP__CALENDLY__TOKEN_ENCRYPTION_KEY="$ENCRYPTION_KEY" \
APP__LOG__LEVEL=warn,app_http::startup=info \
  target/release/calendly-gateway serve >"$WORK/gateway.log" 2>&1 &
gateway_pid=$!
PIDS+=("$gateway_pid")
gateway="http://$(address_in "$WORK/gateway.log")"

python3 bench/driver.py setup "$gateway" "$stand_in" "$JWT_SECRET" "$USERS" "$WORK"
# The mix, user by user: 8 availability checks, 1 event types list, 1 user URI.
python3 - "$WORK" <<'PY'
import os, sys
work = sys.argv[1]
checks = open(os.path.join(work, "gateway.tsv")).read().splitlines()
event_types = open(os.path.join(work, "event_types.tsv")).read().splitlines()
with open(os.path.join(work, "mix.tsv"), "w") as out:
    for check, listing in zip(checks, event_types):
        token = check.split("\t")[0]
        for line in [check] * 8 + [listing, f"{token}\t/calendly/user"]:
            out.write(line + "\n")
PY

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$gateway_pid/status"; }
round() {  # SECONDS -> one JSON line
  wrk -t2 -c"$CONNECTIONS" -d"${1}s" --timeout 10s -s bench/rotate.lua "$gateway" -- "$WORK/mix.tsv" | tail -n 1
}

echo "== warm-up: ${ROUND_SECS}s" >&2
round "$ROUND_SECS" >"$WORK/warm-up.json"
echo "warm-up: $(cat "$WORK/warm-up.json"), RSS $(rss_kb) kB" >&2
: >"$WORK/rounds.jsonl"
for n in $(seq 1 "$ROUNDS"); do
  result=$(round "$ROUND_SECS")
  rss=$(rss_kb)
  echo "{\"round\": $n, \"rss_kb\": $rss, \"wrk\": $result}" >>"$WORK/rounds.jsonl"
  echo "round $n: $result, RSS $rss kB" >&2
done

python3 - "$WORK/rounds.jsonl" "$USERS" "$MIN_REQUESTS" "$MAX_GROWTH_KB" "$gateway_pid" <<'PY'
import json, sys
path, users, min_requests, max_growth, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rounds = [json.loads(line) for line in open(path)]
requests = sum(r["wrk"]["requests"] for r in rounds)
seconds = sum(r["wrk"]["duration_us"] for r in rounds) / 1e6
errors = sum(r["wrk"]["socket_errors"] + r["wrk"]["non_2xx"] for r in rounds)
growth = rounds[-1]["rss_kb"] - rounds[0]["rss_kb"]
peak = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM:"))
p99s = ["%.1f" % (r["wrk"]["p99_us"] / 1000) for r in rounds]
print(f"{users} users, {len(rounds)} rounds: {requests:,} requests in {seconds:.0f}s "
      f"({requests / seconds:,.0f}/s), {errors} errors; RSS after each round (kB): "
      f"{', '.join(str(r['rss_kb']) for r in rounds)}; growth {growth:+} kB; peak {peak / 1024:.1f} MB; "
      f"p99 per round (ms): {', '.join(p99s)}")
failures = []
if requests < min_requests:
    failures.append(f"only {requests} requests (at least {min_requests} wanted)")
if errors:
    failures.append(f"{errors} requests failed")
if growth > max_growth:
    failures.append(f"memory grew by {growth} kB after warm-up (at most {max_growth})")
if failures:
    sys.exit("load run failed: " + "; ".join(failures))
print("load run passed")
PY
