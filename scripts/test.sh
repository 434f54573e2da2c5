#!/usr/bin/env bash
# The project's test command: every test of the workspace, against a real PostgreSQL.
#
#   scripts/test.sh [extra arguments for cargo test]
#
# With TEST_DATABASE_URL set (a URL with the right to create databases, e.g.
# postgres://postgres@127.0.0.1:5432/postgres) the tests use that server. Without it, this
# script starts a throwaway PostgreSQL cluster (initdb in a temporary folder, trust auth,
# a free port on 127.0.0.1) and removes it afterwards. That needs PostgreSQL's server programs
# (initdb, pg_ctl): found on PATH, through pg_config, or under /usr/lib/postgresql/*/bin.
# As root, the cluster runs as the `postgres` user, since PostgreSQL refuses to run as root.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/pg.sh
source scripts/pg.sh

if [ -z "${TEST_DATABASE_URL:-}" ]; then
  trap stop_throwaway_cluster EXIT
  start_throwaway_cluster
  export TEST_DATABASE_URL="$PG_URL"
fi

cargo test --workspace --all-targets --locked "$@"
