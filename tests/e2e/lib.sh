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
# A stand-in for the driver's MPS control daemon, in folder $1 (put it on
# PATH): `-d` starts a "server" (a sleep) and notes its pid in the pipe
# folder (with `log` as $2, also a line in the log folder's control.log);
# `quit` stops it.
fake_mps_control() {
  mkdir -p "$1"
  cp "$(command -v sleep)" "$1/nvidia-cuda-mps-server"
  cat >"$1/nvidia-cuda-mps-control" <<'SH'
#!/usr/bin/env bash
pidfile=$CUDA_MPS_PIPE_DIRECTORY/nvidia-cuda-mps-control.pid
if [ "${1:-}" = -d ]; then
  setsid "$(dirname "$0")/nvidia-cuda-mps-server" 600 </dev/null >/dev/null 2>&1 &
  echo $! >"$pidfile"
  [ ! -e "$(dirname "$0")/.log-started" ] || echo "started" >"$CUDA_MPS_LOG_DIRECTORY/control.log"
  exit 0
fi
read -r cmd
[ "$cmd" = quit ] && kill "$(cat "$pidfile")" && rm -f "$pidfile"
SH
  if [ "${2:-}" = log ]; then touch "$1/.log-started"; fi
  chmod +x "$1/nvidia-cuda-mps-control" "$1/nvidia-cuda-mps-server"
}
