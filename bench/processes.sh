# What bench/run.sh and bench/booking.sh share, sourced after OUT is set: the processes they
# start (PIDS) killed and the throwaway PostgreSQL (or BENCH_DATABASE_URL's) stopped on exit,
# PG_URL and PSQL set.
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_throwaway_cluster
}
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
# shellcheck source=scripts/processes.sh
source scripts/processes.sh
trap cleanup EXIT
bench_database
