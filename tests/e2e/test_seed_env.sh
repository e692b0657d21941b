#!/usr/bin/env bash
# COTENANT_SEED: a workload gets the same seed alone and shared within a
# repeat (a paired comparison), and another in the next repeat.
source "$(dirname "$0")/lib.sh"
cat >"$WORK/s.yaml" <<YAML
name: seeds
device: cpu
modes: [timeslice]
repeats: 2
workloads:
  - name: a
    command: [sh, -c, 'echo "seed=\$COTENANT_SEED"; exec "\$0" --loop compute --threads 1 --duration 0', $BIN/cotenant-cpu-burn]
  - name: b
    kind: cpu-compute
    args: [--threads, "1"]
YAML
"$COT" run "$WORK/s.yaml" --out "$WORK/r" --duration 0.5s --warmup 0.2s -q || fail "run failed"; ok
seed() { sed -n 's/^seed=//p' "$(ls -d "$WORK"/r/segments/*-r"$1"-timeslice-"$2"*/a)/stdout.log"; }
r1a=$(seed 1 alone-a) r1s=$(seed 1 shared) r2a=$(seed 2 alone-a) r2s=$(seed 2 shared)
[[ $r1a =~ ^[0-9]+$ ]] || fail "a seed in the environment: '$r1a'"; ok
[ "$r1a" = "$r1s" ] || fail "repeat 1: alone $r1a, shared $r1s"; ok
[ "$r2a" = "$r2s" ] || fail "repeat 2: alone $r2a, shared $r2s"; ok
[ "$r1a" != "$r2a" ] || fail "repeats 1 and 2 share seed $r1a"; ok
finish
