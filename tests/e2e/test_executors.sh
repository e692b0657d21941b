#!/usr/bin/env bash
# cotenant run --executor compose and --executor k8s, against stand-ins for
# docker and kubectl (tests/e2e/fake_tools) that record every call and play
# each container by running its `cotenant agent` command: the command
# sequence (up, follow, stop, down; config, label, apply, follow, delete,
# label back), the results folder as a local run writes it, failures that
# name their cause, and the node's label put back after a failure and after
# Ctrl-C.
source "$(dirname "$0")/lib.sh"
export COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE
export PATH=$COTENANT_SOURCE_DIR/tests/e2e/fake_tools:$PATH
export FAKE_COTENANT=$COT FAKE_DIR=$WORK/fake FAKE_LOG=$WORK/fake/calls
mkdir -p "$FAKE_DIR" "$WORK/bin"
cat >"$WORK/bin/wl" <<SH
#!/usr/bin/env bash
echo "mode=\$COTENANT_MODE wl=\$COTENANT_WORKLOAD pipe=\${CUDA_MPS_PIPE_DIRECTORY:-} pct=\${CUDA_MPS_ACTIVE_THREAD_PERCENTAGE:-}"
# Under AddressSanitizer, LeakSanitizer forks a tracer, with the workload's
# name and environment, as the workload exits: the NVML double would list it
# as a second GPU process of the workload for a tick.
export ASAN_OPTIONS=detect_leaks=0
exec $BIN/cotenant-cpu-burn --loop compute --threads 1 --duration 0
SH
chmod +x "$WORK/bin/wl"
cat >"$WORK/s.yaml" <<YAML
name: boxed
device: gpu
modes: [timeslice, mps]
repeats: 1
telemetry_interval: off
startup_timeout: 20s
workloads:
  - name: a
    command: [$WORK/bin/wl]
  - name: b
    command: [$WORK/bin/wl]
    mps: {active_thread_percentage: 40}
YAML
seg() { ls -d "$1"/segments/*-"$2"-"$3"; }
# the run's id: its folder's name and a random suffix, so that runs of
# folders with one name never share projects, Jobs or GPU processes
run_id() {
  ID=$(json "$1/run.json" 'd["run_id"]')
  [[ $ID =~ ^$2-[0-9a-f]{6}$ ]] || fail "run id of $1: $ID"; ok
}

# --- compose ---------------------------------------------------------------
R=$WORK/rc
"$COT" run "$WORK/s.yaml" --executor compose --out "$R" --duration 0.5s --warmup 0.2s -q 2>"$WORK/err" \
  || fail "compose run: $(cat "$WORK/err")"; ok
json "$R/run.json" 'd["status"], d["executor"]' | grep -q "('complete', 'compose')" || fail "run.json: $(json "$R/run.json" 'd["status"]')"; ok
run_id "$R" rc
S=$(seg "$R" timeslice shared)
grep -q "^mode=timeslice wl=a pipe= pct=$" "$S/a/stdout.log" || fail "a's stdout: $(cat "$S/a/stdout.log")"; ok
[ "$(grep -c '"ev":"step"' "$S/b/events.jsonl")" -gt 1 ] || fail "b's events: $(head -3 "$S/b/events.jsonl")"; ok
json "$S/segment.json" '[d["results"][w]["status"] for w in "ab"]' | grep -q "\['ok', 'ok'\]" \
  || fail "segment: $(json "$S/segment.json" 'd["results"]')"; ok
grep -q "^mode=mps wl=b pipe=$R/deploy/[0-9a-z-]*-mps-shared/mps/pipe pct=40$" "$(seg "$R" mps shared)/b/stdout.log" \
  || fail "b under mps: $(cat "$(seg "$R" mps shared)/b/stdout.log")"
json "$R/metrics.json" 'len(d["workloads"]) if "workloads" in d else list(d)' >/dev/null || fail "no metrics.json"; ok
grep -q "mps-daemon:" "$(seg "$R" mps shared | sed 's|/segments/|/deploy/|')/compose.yaml" || fail "no MPS daemon service"; ok
# one segment's calls, in order: up, a follower per workload, SIGTERM when the window closed, down
grep -- "-p $ID-s3 " "$FAKE_LOG" | sed "s/.* -p $ID-s3 //" >"$WORK/seq"
# (the two followers start one after the other, but log in either order)
printf '%s\n' "up -d" "logs -f --no-color --no-log-prefix a" "logs -f --no-color --no-log-prefix b" "kill -s SIGTERM" \
  "down --volumes --remove-orphans --timeout 10" | diff - <(sed -n 1p "$WORK/seq"; sed -n 2,3p "$WORK/seq" | sort; sed -n '4,$p' "$WORK/seq") \
  || fail "segment 3's docker compose calls"; ok
grep -q "docker compose -f .*/deploy/.*/compose.yaml -p $ID-s1 up -d" "$R/deploy/commands.log" || fail "commands.log"; ok

# A project that does not start: every workload fails with docker's words, and it is still taken down.
: >"$FAKE_LOG"
FAKE_FAIL_UP=1 "$COT" run "$WORK/s.yaml" --modes timeslice --executor compose --out "$WORK/rf" --duration 0.5s -q 2>"$WORK/err" \
  && fail "a failed up passed"
grep -q 'could not select device driver' "$WORK/err" || fail "the failure: $(cat "$WORK/err")"; ok
[ "$(grep -c " down " "$FAKE_LOG")" = 3 ] || fail "down after a failed up: $(cat "$FAKE_LOG")"; ok

# No MPS daemon pipe: each agent refuses to start its workload without MPS, and says why.
sed -e 's/^startup_timeout: 20s/startup_timeout: 1s/' "$WORK/s.yaml" >"$WORK/s1.yaml"
FAKE_NO_MPS_PIPE=1 "$COT" run "$WORK/s1.yaml" --modes mps --executor compose --out "$WORK/rp" --duration 0.5s -q 2>"$WORK/err" \
  && fail "a run without the MPS pipe passed"
grep -q "the MPS control daemon's pipe .*/control did not appear within --ready-timeout, so .* was not started: it would have run without MPS" \
  "$(ls -d "$WORK"/rp/segments/*-mps-alone-a)/a/stderr.log" || fail "no pipe: $(cat "$WORK/err")"; ok

# --- k8s ---------------------------------------------------------------------
rc=0
"$COT" run "$WORK/s.yaml" --executor k8s --out "$WORK/rn" -q 2>"$WORK/err" || rc=$?
[ $rc = 2 ] && grep -q -- "--node NAME" "$WORK/err" || fail "no --node: rc $rc $(cat "$WORK/err")"; ok
echo "nvidia.com/device-plugin.config=site-default" >"$FAKE_DIR/labels"
: >"$FAKE_LOG"
R=$WORK/rk
"$COT" run "$WORK/s.yaml" --executor k8s --node gpu-1 --namespace bench --out "$R" --duration 0.5s --warmup 0.2s -q 2>"$WORK/err" \
  || fail "k8s run: $(cat "$WORK/err")"; ok
json "$R/run.json" 'd["status"], d["executor"], d["telemetry"]["enabled"]' | grep -q "('complete', 'k8s', False)" \
  || fail "run.json: $(json "$R/run.json" 'd["status"], d["telemetry"]')"; ok
run_id "$R" rk
grep -q "^mode=mps wl=b pipe= pct=40$" "$(seg "$R" mps shared)/b/stdout.log" || fail "b under k8s mps"; ok
[ "$(cat "$FAKE_DIR/labels")" = "nvidia.com/device-plugin.config=site-default" ] || fail "label after: $(cat "$FAKE_DIR/labels")"; ok
grep -E "^kubectl (apply|label|logs|delete)" "$FAKE_LOG" | sed -E 's|-f /[^ ]*/|-f |' | head -12 >"$WORK/seq"
printf '%s\n' "kubectl apply -f mode-timeslice.yaml" \
  "kubectl label node gpu-1 nvidia.com/device-plugin.config=cotenant-timeslicing-2 --overwrite" \
  "kubectl apply -f jobs.yaml" "kubectl logs -f -n bench job/$ID-s1-a -c a --pod-running-timeout=20s" \
  "kubectl delete job -n bench -l cotenant.io/run=$ID,cotenant.io/segment=001-r1-timeslice-alone-a --wait=false --cascade=foreground" \
  "kubectl delete job -n bench -l cotenant.io/run=$ID,cotenant.io/segment=001-r1-timeslice-alone-a --ignore-not-found --cascade=foreground --wait=true --timeout=120s" \
  "kubectl apply -f jobs.yaml" | diff - <(head -7 "$WORK/seq") || fail "kubectl calls"; ok
grep -q "kubectl label node gpu-1 nvidia.com/device-plugin.config=cotenant-mps-2 --overwrite" "$FAKE_LOG" || fail "mps label"; ok
[ "$(grep "label node" "$FAKE_LOG" | tail -1)" = "kubectl label node gpu-1 nvidia.com/device-plugin.config=site-default --overwrite" ] \
  || fail "the last label call: $(grep "label node" "$FAKE_LOG" | tail -1)"; ok
grep -q "nvidia.com/gpu: 1" "$(seg "$R" timeslice shared | sed 's|/segments/|/deploy/|')/jobs.yaml" || fail "jobs.yaml"; ok

# A node that never offers the replicas: the mode fails with what was seen, the label goes back (here: removed).
: >"$FAKE_DIR/labels"
FAKE_ALLOCATABLE=1 "$COT" run "$WORK/s.yaml" --modes timeslice --executor k8s --node gpu-1 --out "$WORK/rk2" -q 2>"$WORK/err" \
  && fail "a node without replicas passed"
grep -q "nvidia.com/gpu 1 (needs 2)" "$WORK/err" || fail "the failure: $(cat "$WORK/err")"; ok
[ ! -s "$FAKE_DIR/labels" ] || fail "label left: $(cat "$FAKE_DIR/labels")"; ok
grep -q "label node gpu-1 nvidia.com/device-plugin.config- --overwrite" "$FAKE_LOG" || fail "no label removal"; ok

# Ctrl-C in the middle: the Jobs are deleted, the label goes back, the run says interrupted.
echo "nvidia.com/device-plugin.config=site-default" >"$FAKE_DIR/labels"
: >"$FAKE_LOG"
"$COT" run "$WORK/s.yaml" --executor k8s --node gpu-1 --out "$WORK/rk3" --duration 30s -q 2>"$WORK/err" &
pid=$!
for _ in $(seq 100); do grep -q "logs -f" "$FAKE_LOG" && break; sleep 0.1; done
sleep 1
kill -INT $pid
rc=0
wait $pid || rc=$?
[ $rc = 1 ] || fail "an interrupted run exited $rc"; ok
json "$WORK/rk3/run.json" 'd["status"]' | grep -q interrupted || fail "status: $(json "$WORK/rk3/run.json" 'd["status"]')"; ok
grep -q "delete job" "$FAKE_LOG" || fail "no delete after Ctrl-C"; ok
[ "$(cat "$FAKE_DIR/labels")" = "nvidia.com/device-plugin.config=site-default" ] || fail "label after Ctrl-C: $(cat "$FAKE_DIR/labels")"; ok

# --- GPU telemetry from where the workloads run --------------------------------
# The NVML double lists the running cotenant-cpu-burn processes as GPU
# processes. They are not in cotenant's process tree (the stand-ins start
# them), so only their COTENANT_SEGMENT and COTENANT_WORKLOAD say whose they are.
export COTENANT_NVML_DOUBLE_PROC_NAME=cotenant-cpu-bu:500:30:10
sed 's/^telemetry_interval: off$/telemetry_interval: 50ms/' "$WORK/s.yaml" >"$WORK/t.yaml"
peak() { json "$1/metrics.json" "[w for w in d['modes'][0]['workloads'] if w['name'] == '$2'][0]['gpu']['shared']['peak_memory_mib']['mean']"; }
# compose: sampled on this host, each container's processes told apart by
# their environment. Two runs at once, into folders of one name: each sees
# the other's processes on the GPU, and must not count them as its own.
mkdir -p "$WORK/x1" "$WORK/x2"
for x in x1 x2; do
  "$COT" run "$WORK/t.yaml" --modes timeslice --executor compose --out "$WORK/$x/tc" --duration 1s --warmup 0.2s -q \
    2>"$WORK/$x/err" &
  eval "pid_$x=\$!"
done
wait "$pid_x1" || fail "compose with telemetry: $(cat "$WORK/x1/err")"; ok
wait "$pid_x2" || fail "compose with telemetry (second): $(cat "$WORK/x2/err")"; ok
for x in x1 x2; do
  S=$(seg "$WORK/$x/tc" timeslice shared)
  grep -q ",process,[0-9]*,cotenant-cpu-bu,.*,a$" "$S/telemetry.csv" && grep -q ",process,[0-9]*,cotenant-cpu-bu,.*,b$" "$S/telemetry.csv" \
    || fail "compose: processes not labelled: $(grep -m3 process "$S/telemetry.csv")"; ok
  [ "$(peak "$WORK/$x/tc" a)" = 500.0 ] && [ "$(peak "$WORK/$x/tc" b)" = 500.0 ] \
    || fail "compose $x: per-workload memory $(peak "$WORK/$x/tc" a) / $(peak "$WORK/$x/tc" b)"
done
[ "$(json "$WORK/x1/tc/run.json" 'd["run_id"]')" != "$(json "$WORK/x2/tc/run.json" 'd["run_id"]')" ] || fail "one run id for two runs"; ok

# k8s: a sampler pod's stream; a server and its load generator in one pod; a
# node with two GPUs, of which the file keeps one.
cat >"$WORK/k.yaml" <<YAML
name: served
device: gpu
modes: [timeslice]
repeats: 1
telemetry_interval: 50ms
startup_timeout: 20s
workloads:
  - name: server
    kind: serve-cpu
    args: [--max-batch, "8"]
  - name: client
    kind: loadgen
    target: server
    args: [--rate, "100", --arrival, constant]
  - name: burner
    command: [$WORK/bin/wl]
YAML
: >"$FAKE_LOG"
R=$WORK/rks
# The workloads' processes are on GPU 1 alone: the sampler streams both GPUs
# and the results keep the one the workloads used, not merely the first.
PATH=$BIN:$PATH COTENANT_NVML_DOUBLE_GPUS=2 COTENANT_NVML_DOUBLE_PROC_GPU=1 "$COT" run "$WORK/k.yaml" --executor k8s --node gpu-1 --out "$R" --duration 1.5s \
  --warmup 0.3s -q 2>"$WORK/err" || fail "k8s served run: $(cat "$WORK/err")"; ok
json "$R/run.json" 'd["status"], d["telemetry"]["enabled"]' | grep -q "('complete', True)" || fail "run.json: $(json "$R/run.json" 'd["telemetry"]')"; ok
S=$(seg "$R" timeslice shared)
run_id "$R" rks
json "$S/segment.json" '[d["results"][w]["status"] for w in ("server", "client", "burner")], d["warnings"]' \
  | grep -q "^(\['ok', 'ok', 'ok'\], \[\])$" || fail "segment: $(json "$S/segment.json" 'd["results"], d["warnings"]')"; ok
J=$(seg "$R" timeslice shared | sed 's|/segments/|/deploy/|')/jobs.yaml
grep -q "^  name: $ID-s3-server$" "$J" && grep -q "^  name: $ID-s3-gpu-sampler$" "$J" && ! grep -q "^  name: $ID-s3-client$" "$J" \
  || fail "jobs: $(grep '^  name:' "$J")"; ok
grep -q "logs -f -n default job/$ID-s3-server -c client " "$FAKE_LOG" && grep -q "job/$ID-s3-gpu-sampler -c sampler " "$FAKE_LOG" \
  || fail "followers: $(grep 'logs -f' "$FAKE_LOG")"; ok
[ "$(json "$S/segment.json" 'd["results"]["client"]["steps"] > 50')" = True ] \
  || fail "the client reached its server on 127.0.0.1: $(json "$S/segment.json" 'd["results"]["client"]')"; ok
json "$S/segment.json" 'd["telemetry"]["source"], d["telemetry"]["gpus_sampled"], d["telemetry"]["samples"] > 10' \
  | grep -q "('a sampler pod on the node', 2, True)" || fail "telemetry: $(json "$S/segment.json" 'd["telemetry"]')"; ok
[ "$(cut -d, -f3 "$S/telemetry.csv" | sort -u | tr '\n' ' ')" = "1 gpu " ] && [ "$(json "$S/segment.json" 'd["telemetry"]["gpu"]')" = 1 ] || fail "one GPU kept: $(cut -d, -f3 "$S/telemetry.csv" | sort -u)"; ok
[ "$(peak "$R" burner)" = 500.0 ] || fail "k8s: the burner's memory: $(peak "$R" burner)"; ok

# GPU processes none of which can be told to be the segment's (as where the
# workloads' environments cannot be read): the file keeps the GPU with
# processes, and the segment warns that the choice is a guess.
cp "$(command -v sleep)" "$WORK/bin/intruder-gpu"
"$WORK/bin/intruder-gpu" 60 &
intruder=$!
R=$WORK/rku
PATH=$BIN:$PATH COTENANT_NVML_DOUBLE_GPUS=2 COTENANT_NVML_DOUBLE_PROC_GPU=1 COTENANT_NVML_DOUBLE_PROC_NAME=intruder-gpu:300:10:5 \
  "$COT" run "$WORK/t.yaml" --modes timeslice --executor k8s --node gpu-1 --out "$R" --duration 1s --warmup 0.2s -q \
  2>"$WORK/err" || fail "k8s run, unlabelled processes: $(cat "$WORK/err")"; ok
kill $intruder
S=$(seg "$R" timeslice shared)
json "$S/segment.json" 'd["telemetry"]["gpu"], d["telemetry"]["gpu_chosen_by"]' | grep -q "^(1, 'the most GPU processes')$" \
  && json "$S/segment.json" 'd["warnings"][0]' | grep -q "^the node has 2 GPUs and no GPU process was seen as this segment's: telemetry.csv keeps GPU 1, the one with the most GPU processes" \
  || fail "unlabelled: $(json "$S/segment.json" 'd["telemetry"], d["warnings"]')"; ok
finish
