# Shared by bench/run.sh and the scripts that run the binaries: background processes, their
# addresses and a work folder, all gone when the script exits.
#
#   source scripts/processes.sh
#   use_work_dir NAME   # WORK: a new temporary folder; on exit, every pid in PIDS is killed
#                       # and WORK removed
#   some-server … & PIDS+=($!)
#   address_in LOG      # waits up to 20 s for "listening on http://ADDRESS" in LOG, prints ADDRESS

PIDS=()

use_work_dir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/calendly-gateway-$1.XXXXXX")
  trap stop_processes EXIT
}

stop_processes() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "${WORK:-}"
}

address_in() {
  local log=$1
  for _ in $(seq 1 200); do
    if grep -q "listening on http://" "$log" 2>/dev/null; then
      grep -o "listening on http://[^ ]*" "$log" | head -n 1 | sed 's|listening on http://||'
      return
    fi
    sleep 0.1
  done
  echo "nothing listens: $log" >&2; cat "$log" >&2; exit 1
}
