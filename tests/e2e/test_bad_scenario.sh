# An invalid scenario: one error with file:line:column, exit 2, nothing written.
source "$(dirname "$0")/lib.sh"
printf 'name: x\nworkloads:\n  - name: a\n    kind: cpu-compute\n    colour: red\n' > "$WORK/bad.yaml"
set +e
"$COT" run "$WORK/bad.yaml" --out "$WORK/r" 2>"$WORK/err"
rc=$?
set -e
[ $rc = 2 ] || fail "exit code $rc, expected 2"
grep -q "bad.yaml:5:5: unknown key 'colour'" "$WORK/err" || fail "message: $(cat "$WORK/err")"
[ ! -e "$WORK/r" ] || fail "results folder was created"
set +e; "$COT" run --bogus 2>/dev/null; rc=$?; set -e
[ $rc = 2 ] || fail "bad option exit $rc"
echo "1 passed, 0 failed"
