# Shared by the end-to-end tests: $1 is the folder holding cotenant.
set -euo pipefail
BIN=$1
COT=$BIN/cotenant
WORK=$(mktemp -d)
trap 'pkill -KILL -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
# Each script counts the checks it made and ends with `finish`, which prints
# "N passed, 0 failed" (a failed check has exited through `fail` already).
CHECKS=0
ok() { CHECKS=$((CHECKS + 1)); [ -z "${1:-}" ] || echo "ok $CHECKS - $1"; }
finish() { echo "$CHECKS passed, 0 failed"; }
