# cotenant-bert on the CPU: events through the protocol, the loss falling on
# the learnable task, usage errors, and a clear refusal where there is no
# GPU.
source "$(dirname "$0")/lib.sh"
B=$BIN/cotenant-bert
tiny=(--device cpu --layers 2 --hidden 32 --heads 2 --inter 64 --vocab 1040 --seq 16 --batch 8 --data learnable
      --lr 3e-3 --lr-warmup 10 --steps 200 --dropout 0)
COTENANT_EVENTS_FD=3 "$B" "${tiny[@]}" 3>"$WORK/ev.jsonl" >"$WORK/out" 2>&1 || fail "exit $?: $(tail -3 "$WORK/out")"; ok
grep -q '"ev":"start".*"unit":"sequences"' "$WORK/ev.jsonl" || fail "no start event: $(head -2 "$WORK/ev.jsonl")"; ok
[ "$(grep -c '"ev":"step"' "$WORK/ev.jsonl")" -ge 150 ] || fail "too few step events"; ok
grep -q '"ev":"end"' "$WORK/ev.jsonl" || fail "no end event"; ok
read -r first last < <(sed -n 's/.*loss \([0-9.]*\) -> \([0-9.]*\).*/\1 \2/p' "$WORK/out")
python3 -c "import sys; f, l = map(float, sys.argv[1:]); sys.exit(0 if f > 6 and l < 3.0 else 1)" "$first" "$last" \
  || fail "the loss went from $first to $last; expected from about ln(1040) = 6.9 to under 3"; ok
grep -q "parameters, batch 8 x 16 tokens, fp32" "$WORK/out" || fail "summary line: $(head -1 "$WORK/out")"; ok

set +e
"$B" --hidden 10 --heads 3 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "not a multiple of --heads" "$WORK/err" || fail "bad shape: exit $rc, $(cat "$WORK/err")"; ok
"$B" --data nonsense 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "expected random or learnable" "$WORK/err" || fail "bad --data: exit $rc"; ok
"$B" --attention flash 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "expected fused or stored" "$WORK/err" || fail "bad --attention: exit $rc"; ok
"$B" --gemm fast 2>"$WORK/err"; rc=$?
[ $rc = 2 ] && grep -q "expected lt, lt-tuned or cublas" "$WORK/err" || fail "bad --gemm: exit $rc"; ok
"$B" --steps 1 >/dev/null 2>"$WORK/err"; rc=$?
set -e
# no GPU here: built with CUDA, the driver call fails; built without, the build says so. Both point to --device cpu.
[ $rc = 1 ] && grep -q -- "--device cpu" "$WORK/err" || fail "--device cuda: exit $rc, $(cat "$WORK/err")"; ok
finish
