# Shared by scripts/test.sh and bench/run.sh: a throwaway PostgreSQL cluster.
#
#   source scripts/pg.sh
#   start_throwaway_cluster     # sets PG_URL (postgres://postgres@127.0.0.1:PORT/postgres)
#   stop_throwaway_cluster      # stops it and removes its folder
#   bench_database              # the benchmarks': PG_URL from BENCH_DATABASE_URL, or else a
#                               # throwaway cluster; PSQL, a psql to use on it
#
# It needs PostgreSQL's server programs (initdb, pg_ctl): found on PATH, through pg_config, or
# under /usr/lib/postgresql/*/bin. As root the cluster runs as the `postgres` user, since
# PostgreSQL refuses to run as root.

find_pg_bin() {
  # The folder of the real programs: an initdb on PATH may be a link to them.
  if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin /usr/local/opt/postgresql*/bin /opt/homebrew/opt/postgresql*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  return 1
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  return 1
}

start_throwaway_cluster() {
  local bin run_as=()
  bin=$(find_pg_bin) || {
    echo "PostgreSQL's server programs (initdb, pg_ctl) were not found." >&2
    echo "Install PostgreSQL, or set TEST_DATABASE_URL to a server the tests may use." >&2
    exit 1
  }
  PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/calendly-gateway-pg.XXXXXX")
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_TMP"
    run_as=(runuser -u postgres --)
  fi
  PG_RUN_AS=("${run_as[@]}")
  PG_CTL="$bin/pg_ctl"
  "${run_as[@]}" "$bin/initdb" -D "$PG_TMP/data" -A trust -U postgres -E UTF8 --no-sync >"$PG_TMP/initdb.log" 2>&1 || {
    cat "$PG_TMP/initdb.log" >&2; exit 1; }
  local port
  for _ in 1 2 3; do
    port=$(free_port)
    if "${run_as[@]}" "$PG_CTL" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 30 \
        -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
        start >/dev/null; then
      PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
      echo "throwaway PostgreSQL on port $port" >&2
      return
    fi
  done
  cat "$PG_TMP/server.log" >&2
  exit 1
}

bench_database() {
  if [ -n "${BENCH_DATABASE_URL:-}" ]; then
    PG_URL=$BENCH_DATABASE_URL
  else
    start_throwaway_cluster
  fi
  PSQL=$(command -v psql || echo "$(find_pg_bin)/psql")
}

stop_throwaway_cluster() {
  if [ -n "${PG_TMP:-}" ]; then
    "${PG_RUN_AS[@]}" "$PG_CTL" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
}
