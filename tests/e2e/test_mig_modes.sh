#!/usr/bin/env bash
# The mig and mig-emulated modes of cotenant run, against the NVML double's
# stateful H100: mig applies the workloads' layout, gives each workload its
# MIG-<uuid> and puts the GPU back afterwards (also when interrupted);
# mig-emulated gives each MPS client its profile's SM share and memory, and
# says it is emulated in run.json, metrics.json and the report; a sweep of
# layouts runs each in turn, and one that does not fit stops the run before
# it starts. A stand-in nvidia-cuda-mps-control plays the MPS daemon.
source "$(dirname "$0")/lib.sh"
export COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE COTENANT_NVML_DOUBLE_MIG_PROFILES=1
export COTENANT_NVML_DOUBLE_NAME="NVIDIA H100 80GB HBM3" COTENANT_STATE_DIR=$WORK/state
export COTENANT_NVML_DOUBLE_MIG_STATE=$WORK/gpu COTENANT_NVML_DOUBLE_LOG=$WORK/log
printf 'mode 0 0\ncompute_mode 0\n' >"$WORK/gpu"
cp "$WORK/gpu" "$WORK/before"

fake_mps_control "$WORK/bin" log
export PATH=$WORK/bin:$PATH

cat >"$WORK/s.yaml" <<YAML
name: migpair
device: gpu
modes: [mig, mig-emulated]
repeats: 1
telemetry_interval: off
workloads:
  - name: big
    command: [sh, -c, 'echo "cvd=\$CUDA_VISIBLE_DEVICES pct=\$CUDA_MPS_ACTIVE_THREAD_PERCENTAGE mem=\$CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"; exec "\$0" --loop compute --threads 1 --duration 0', $BIN/cotenant-cpu-burn]
    mig: {profile: 3g.40gb}
  - name: small
    command: [sh, -c, 'echo "cvd=\$CUDA_VISIBLE_DEVICES pct=\$CUDA_MPS_ACTIVE_THREAD_PERCENTAGE mem=\$CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"; exec "\$0" --loop compute --threads 1 --duration 0', $BIN/cotenant-cpu-burn]
    mig: {profile: 1g.10gb}
YAML
"$COT" run "$WORK/s.yaml" --out "$WORK/r" --duration 0.5s --warmup 0.2s -q 2>"$WORK/err" || fail "run: $(cat "$WORK/err")"; ok
R=$WORK/r
envline() { cat "$(ls -d "$R"/segments/*-"$1"-shared)/$2/stdout.log"; }
# mig: each workload on its own instance, the GPU back as it was, every change in the run's log
envline mig big | grep -q "^cvd=MIG-00000000-0000-0000-0001-000000000000 pct= mem=$" || fail "big under mig: $(envline mig big)"; ok
envline mig small | grep -q "^cvd=MIG-00000000-0000-0000-0002-000000000000 pct= mem=$" || fail "small under mig: $(envline mig small)"; ok
cmp -s "$WORK/gpu" "$WORK/before" || fail "the GPU after the run: $(cat "$WORK/gpu")"; ok
[ "$(head -1 "$WORK/log")" = "set_mig_mode 1" ] && [ "$(tail -1 "$WORK/log")" = "set_mig_mode 0" ] || fail "changes: $(cat "$WORK/log")"; ok
grep -q "create_gi profile=9 placement=0:4" "$WORK/log" && grep -q "create_gi profile=19 placement=4:1" "$WORK/log" \
  || fail "placements: $(cat "$WORK/log")"; ok
json "$R/run.json" '[(i["workload"], i["profile"], i["uuid"][:4]) for i in d["modes"]["mig"]["instances"]]' \
  | grep -q "\[('big', '3g.40gb', 'MIG-'), ('small', '1g.10gb', 'MIG-')\]" || fail "run.json mig: $(json "$R/run.json" 'd["modes"]')"; ok
[ ! -e "$R/mig-state-before.json" ] || fail "the saved state stays after a restore that worked"; ok
# mig-emulated: 60 of 132 SMs -> 46%, 16 -> 13%; memory as the profile's; labelled everywhere
envline mig-emulated big | grep -q "^cvd= pct=46 mem=0=40448M$" || fail "big emulated: $(envline mig-emulated big)"; ok
envline mig-emulated small | grep -q "^cvd= pct=13 mem=0=9984M$" || fail "small emulated: $(envline mig-emulated small)"; ok
json "$R/run.json" 'd["modes"]["mig-emulated"]["emulated"]' | grep -q True || fail "run.json says emulated"; ok
json "$R/metrics.json" '[m["mode"] for m in d["modes"] if "L2 cache" in m.get("caveat", "")]' | grep -q "\['mig-emulated'\]" \
  || fail "metrics.json caveat"; ok
grep -q "^> \*\*mig-emulated\*\*: emulated with MPS" "$R/report.md" || fail "report caveat: $(grep -n emulated "$R/report.md")"; ok
grep -q "^| mig-emulated (caveat above) |" "$R/report.md" || fail "comparison row"; ok
grep -q "^mig-emulated,big," "$R/summary.csv" || fail "summary.csv rows name the mode"; ok
ps -eo comm | grep -q "^nvidia-cuda-mps" && fail "an MPS stand-in outlived the run"

# interrupted while the layout is applied: restored all the same
printf 'mode 0 0\ncompute_mode 0\n' >"$WORK/gpu"
sed -i 's/--duration 0/--duration 30/' "$WORK/s.yaml"
"$COT" run "$WORK/s.yaml" --out "$WORK/r2" --modes mig --duration 20s -q 2>"$WORK/err2" &
pid=$!
for _ in $(seq 1 100); do grep -q "^gi" "$WORK/gpu" 2>/dev/null && break; sleep 0.1; done
grep -q "^gi" "$WORK/gpu" || fail "the layout was never applied: $(cat "$WORK/err2")"; ok
sleep 0.5
kill -INT $pid
wait $pid || true
cmp -s "$WORK/gpu" "$WORK/before" || fail "after SIGINT the GPU is: $(cat "$WORK/gpu")"; ok
[ "$(json "$WORK/r2/run.json" 'd["status"]')" = interrupted ] || fail "status"; ok

# a GPU workload without a profile, and a layout that does not fit: refused before anything runs
sed -i 's/profile: 1g.10gb/profile: 7g.80gb/' "$WORK/s.yaml"
set +e
"$COT" run "$WORK/s.yaml" --out "$WORK/r3" -q 2>"$WORK/err3"; rc=$?
set -e
[ $rc = 2 ] && grep -q "mode mig cannot run here: the workloads' MIG layout 3g.40gb,7g.80gb does not fit" "$WORK/err3" \
  || fail "no fit: $rc $(cat "$WORK/err3")"; ok

# a sweep of layouts: each configuration's layout applied and put back in
# turn; one that does not fit is refused, by name, before anything runs
printf 'mode 0 0\ncompute_mode 0\n' >"$WORK/gpu"
sed -i 's/--duration 30/--duration 0/; s/profile: 7g.80gb/profile: 1g.10gb/; s/^modes: .*/modes: [exclusive]/' "$WORK/s.yaml"
cat >>"$WORK/s.yaml" <<YAML
sweep:
  mig:
    layout: [{big: 4g.40gb, small: 3g.40gb}, {big: 2g.20gb, small: 2g.20gb}]
  mig-emulated:
    layout: [{big: 4g.40gb, small: 3g.40gb}]
YAML
"$COT" run "$WORK/s.yaml" --out "$WORK/r4" --duration 0.3s --warmup 0.1s -q 2>"$WORK/err4" || fail "layouts: $(cat "$WORK/err4")"; ok
R=$WORK/r4
envline mig.p4g40gb-3g40gb small | grep -q "^cvd=MIG-" || fail "small under 4g/3g: $(envline mig.p4g40gb-3g40gb small)"; ok
envline mig-emulated.p4g40gb-3g40gb big | grep -q "^cvd= pct=49 mem=0=40448M$" ||
  fail "big emulated 4g.40gb: $(envline mig-emulated.p4g40gb-3g40gb big)"; ok
[ "$(grep -c "^set_mig_mode 1" "$WORK/log")" -ge 3 ] || fail "each layout applies MIG anew"; ok
grep -q "create_gi profile=5 placement=0:4" "$WORK/log" && grep -q "create_gi profile=14 " "$WORK/log" ||
  fail "the layouts' instances: $(grep create_gi "$WORK/log" | sort | uniq -c)"; ok
cmp -s "$WORK/gpu" "$WORK/before" || fail "the GPU after the layout sweep: $(cat "$WORK/gpu")"; ok
json "$R/metrics.json" '[m["configuration"]["settings"]["small"]["mig_profile"] for m in d["modes"] if "configuration" in m]' |
  grep -q "\['3g.40gb', '2g.20gb', '3g.40gb'\]" || fail "metrics.json configurations"; ok
sed -i 's/{big: 2g.20gb, small: 2g.20gb}/{big: 4g.40gb, small: 4g.40gb}/' "$WORK/s.yaml"
rc=0; "$COT" run "$WORK/s.yaml" --out "$WORK/r5" -q 2>"$WORK/err5" || rc=$?
[ $rc = 2 ] && grep -q "mode mig.p4g40gb-4g40gb cannot run here: the workloads' MIG layout 4g.40gb,4g.40gb does not fit" \
  "$WORK/err5" && [ ! -e "$WORK/r5" ] || fail "a layout that does not fit: $rc $(cat "$WORK/err5")"; ok
finish
