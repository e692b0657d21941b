# Invalid scenarios, one class a fixture (tests/data/bad_scenarios/, each
# naming on its first line "# expect: LINE:COL: | TEXT": the message must
# hold FILE:LINE:COL: and TEXT), then the
# path itself: missing, a folder, a FIFO, not executable. Each: exit 2, the
# message, and no results folder written.
source "$(dirname "$0")/lib.sh"
FIX=$(cd "$(dirname "$0")/../data/bad_scenarios" && pwd)
expect_bad() { # FILE LOCATION TEXT
  set +e
  timeout 20 "$COT" run "$1" --out "$WORK/r" 2>"$WORK/err" >/dev/null
  local rc=$?
  set -e
  [ $rc = 2 ] || fail "$1: exit code $rc, expected 2 ($(cat "$WORK/err"))"
  grep -qF -- "$1${2:+:$2}" "$WORK/err" && grep -qF -- "$3" "$WORK/err" || fail "$1: expected '$1:$2' and '$3', got: $(cat "$WORK/err")"
  [ ! -e "$WORK/r" ] || fail "$1: a results folder was created"
  ok "$(basename "$1"): $(head -c 120 "$WORK/err")"
}
for f in "$FIX"/*.yaml; do
  first=$(head -1 "$f")
  spec=${first#\# expect: }
  if [[ $spec == "| "* ]]; then loc="" text=${spec#| }; else loc=${spec%% | *} text=${spec#* | }; fi
  expect_bad "$f" "$loc" "$text"
done
expect_bad "$WORK/missing.yaml" "" "No such file or directory"
mkdir "$WORK/dir.yaml"
expect_bad "$WORK/dir.yaml" "" "is a folder, not a regular file"
mkfifo "$WORK/fifo.yaml"
expect_bad "$WORK/fifo.yaml" "" "is a FIFO (named pipe), not a regular file"
# a command that is not executable, or not there: which, and where
printf 'echo hi\n' > "$WORK/train.sh"
printf 'device: cpu\nworkloads:\n  - name: a\n    command: ["%s"]\n    measure: wall_time\n' "$WORK/train.sh" > "$WORK/noexec.yaml"
expect_bad "$WORK/noexec.yaml" "4:14" "workload a: command '$WORK/train.sh' is not executable: chmod +x it"
printf 'device: cpu\nworkloads:\n  - name: a\n    command: [no-such-program-here]\n    measure: wall_time\n' > "$WORK/nocmd.yaml"
expect_bad "$WORK/nocmd.yaml" "4:14" "command 'no-such-program-here' was not found on PATH"
set +e; "$COT" run --bogus 2>/dev/null; rc=$?; set -e
[ $rc = 2 ] || fail "bad option exit $rc"
ok "an unknown option: exit 2"
finish
