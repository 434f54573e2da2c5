#!/usr/bin/env bash
# Checks of the repository itself, run by CI: the code stays in modules of one idea, and the
# repository documents itself.
#
#   scripts/repo-checks.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# Modules of one idea: no source file of a crate over this many lines.
MAX_MODULE_LINES=400
failed=0

while IFS= read -r file; do
  lines=$(wc -l < "$file")
  if [ "$lines" -gt "$MAX_MODULE_LINES" ]; then
    echo "$file has $lines lines (more than $MAX_MODULE_LINES): split it by idea" >&2
    failed=1
  fi
done < <(git ls-files 'crates/*/src/*.rs' 'crates/*/src/**/*.rs')

# No module imports one that imports it back (scripts/import-circles.py says which).
if ! python3 scripts/import-circles.py >/dev/null; then
  python3 scripts/import-circles.py || true
  failed=1
fi

# The repository documents itself: nothing points outside it.
if git grep -n -e '\.\./shared' -- README.md docs >&2; then
  echo "README.md or docs/ refer to ../shared, which is not in this repository" >&2
  failed=1
fi

# Every document the README or docs/ link to exists.
while IFS= read -r link; do
  source_file=${link%%:*}
  target=${link#*:}
  target=${target%%#*}
  [ -z "$target" ] && continue
  dir=$(dirname "$source_file")
  if [ ! -e "$dir/$target" ]; then
    echo "$source_file links to $target, which does not exist" >&2
    failed=1
  fi
done < <(for f in README.md docs/*.md; do
           grep -o -E '\]\([^)#:]+(#[^)]*)?\)' "$f" | sed -E "s/^\]\(([^)]*)\)$/\1/; s|^|$f:|" || true
         done)

# Tools' caches are not part of the repository.
if [ -n "$(git ls-files .schemathesis)" ]; then
  echo ".schemathesis/ (schemathesis's cache) is tracked: remove it, it is ignored" >&2
  failed=1
fi

if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "ok: modules within $MAX_MODULE_LINES lines, no import circles, documentation self-contained, links resolve"
