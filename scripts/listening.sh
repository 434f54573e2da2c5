# Shared by bench/run.sh and scripts/schemathesis.sh: the address a gateway or stand-in logged.
#
#   source scripts/listening.sh
#   address_in LOG     # waits up to 20 s for "listening on http://ADDRESS" in LOG, prints ADDRESS

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
