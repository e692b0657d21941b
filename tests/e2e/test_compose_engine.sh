# cotenant run --executor compose on a real Docker engine: the CPU demo in
# the CPU image (docker/build_cpu_image.sh), its results folder, metrics and
# report shaped as a local run's; a workload killed inside its container and
# a SIGINT mid-run each recorded, and no container, network or volume of
# the run left behind. Prints the image's size and the seconds a Compose
# segment costs over a local one.
#
# Needs a Docker engine (scripts/start_dockerd.sh starts one as root) and
# Compose (v2's `docker compose` or v1's docker-compose, whichever answers).
# Where there is none, the test says why and is skipped (exit 77), never
# passed.
source "$(dirname "$0")/lib.sh"
skip() { echo "SKIPPED: $*" >&2; exit 77; }
docker info >/dev/null 2>&1 || skip "no Docker engine answers (docker info failed): as root, scripts/start_dockerd.sh starts one"
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null \
  || skip "neither docker compose (v2) nor docker-compose (v1) is installed"
command -v mmdebstrap >/dev/null || skip "mmdebstrap is not installed (scripts/install_deps.sh installs it)"

TAG=cotenant-cpu:e2e-$$
build_log=$WORK/image.log
COTENANT_CPU_BUILD=$COTENANT_SOURCE_DIR/build-cpu-image bash "$COTENANT_SOURCE_DIR/docker/build_cpu_image.sh" "$TAG" \
  >"$build_log" 2>&1 || fail "building the CPU image: $(tail -20 "$build_log")"
trap 'docker image rm -f "$TAG" >/dev/null 2>&1; pkill -KILL -f "$WORK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
size_mb=$(( $(docker image inspect "$TAG" --format '{{.Size}}') / 1000000 ))
ok "CPU image built: $size_mb MB"

# What a run left: its containers (by the run's label) and the networks
# and volumes of its Compose projects (named after the run's id).
leftovers() {
  local id=$1
  docker ps -a --filter "label=cotenant.io/run=$id" --format '{{.Names}}'
  docker network ls --format '{{.Name}}' | grep -F -- "$id" || true
  docker volume ls --format '{{.Name}}' | grep -F -- "$id" || true
}
run_id() { json "$1/run.json" 'd["run_id"]'; }
# every file a run writes, but those only containers have
files_of() { (cd "$1" && find . -type f ! -path './deploy/*' ! -name follow.log | sort); }

cat >"$WORK/demo.yaml" <<YAML
name: demo
device: cpu
modes: [timeslice]
duration: 2s
warmup: 1s
repeats: 1
workloads:
  - name: compute
    kind: cpu-compute
    args: [--threads, "1"]
  - name: membw
    kind: cpu-membw
    args: [--threads, "1"]
YAML

# --- the demo, locally and in containers ------------------------------------
t0=$(date +%s.%N)
"$COT" run "$WORK/demo.yaml" --out "$WORK/local" -q 2>"$WORK/err" || fail "local run: $(cat "$WORK/err")"
t1=$(date +%s.%N)
"$COT" run "$WORK/demo.yaml" --executor compose --image "$TAG" --out "$WORK/boxed" -q 2>"$WORK/err" \
  || fail "compose run: $(cat "$WORK/err"; tail -20 "$WORK/boxed/deploy/commands.log" 2>/dev/null)"
t2=$(date +%s.%N)
ok "the demo ran through the engine"
[ "$(json "$WORK/boxed/run.json" 'd["status"], d["executor"]')" = "('complete', 'compose')" ] \
  || fail "run.json: $(json "$WORK/boxed/run.json" 'd["status"], d["executor"]')"; ok
diff <(files_of "$WORK/local") <(files_of "$WORK/boxed") >"$WORK/diff" || fail "files differ: $(cat "$WORK/diff")"
ok "the results folder has a local run's files"
python3 - "$WORK/local/metrics.json" "$WORK/boxed/metrics.json" <<'PY' || fail "metrics.json differs in shape"
import json, sys
def shape(o, p=""):
    if isinstance(o, dict): return set().union(*[shape(v, p + "/" + k) for k, v in o.items()], {p})
    if isinstance(o, list): return set().union(*[shape(v, p + "[]") for v in o[:1]], {p})
    return {p}
a, b = (json.load(open(f)) for f in sys.argv[1:])
d = shape(a) ^ shape(b)
if d: sys.exit(f"keys only in one: {sorted(d)}")
for r in (a, b):
    for w in r["modes"][0]["workloads"]:
        if not w["normalized_progress"]["mean"] > 0: sys.exit(f"{w['name']}: no NP")
PY
ok "metrics.json has a local run's keys, and every workload its NP"
diff <(grep '^#' "$WORK/local/report.md") <(grep '^#' "$WORK/boxed/report.md") >"$WORK/diff" \
  || fail "report headings differ: $(cat "$WORK/diff")"; ok "report.md has a local run's sections"
[ -z "$(leftovers "$(run_id "$WORK/boxed")")" ] || fail "left behind: $(leftovers "$(run_id "$WORK/boxed")")"
ok "nothing left behind"
grep -Eq "^[0-9TZ:-]+ (docker compose|docker-compose) -f .* up -d" "$WORK/boxed/deploy/commands.log" \
  || fail "commands.log: $(head -5 "$WORK/boxed/deploy/commands.log")"; ok
segs=$(ls -d "$WORK"/boxed/segments/* | wc -l)
overhead=$(python3 -c "print(f'{(($t2 - $t1) - ($t1 - $t0)) / $segs:.1f}')")
ok "a Compose segment costs $overhead s over a local one (local $(python3 -c "print(f'{$t1 - $t0:.1f}')") s, compose $(python3 -c "print(f'{$t2 - $t1:.1f}')") s, $segs segments)"

# --- a workload killed inside its container, then SIGINT ---------------------
sed -e 's/^repeats: 1/repeats: 3/' -e 's/^duration: 2s/duration: 4s/' "$WORK/demo.yaml" >"$WORK/long.yaml"
"$COT" run "$WORK/long.yaml" --executor compose --image "$TAG" --out "$WORK/intr" -q 2>"$WORK/err" & pid=$!
# the first segment's container, and its workload's pid on this host
victim=
for _ in $(seq 300); do
  [ -f "$WORK/intr/run.json" ] && id=$(run_id "$WORK/intr") \
    && c=$(docker ps --filter "label=cotenant.io/run=$id" --filter "label=cotenant.io/workload=compute" -q | head -1) \
    && [ -n "$c" ] && victim=$(docker top "$c" -eo pid,args | awk '$2 == "cotenant-cpu-burn" {print $1; exit}') \
    && [ -n "$victim" ] && break
  sleep 0.2
done
[ -n "$victim" ] || fail "no workload found in a container: $(cat "$WORK/err")"
kill -KILL "$victim"
ok "killed the workload (host pid $victim) inside container $c"
for _ in $(seq 300); do ls -d "$WORK"/intr/segments/002-* >/dev/null 2>&1 && break; sleep 0.2; done
ls -d "$WORK"/intr/segments/002-* >/dev/null 2>&1 || fail "the run did not go on to its second segment"
sleep 2
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
[ $rc = 1 ] || fail "exit code $rc after a failure and SIGINT, expected 1: $(cat "$WORK/err")"; ok
[ "$(json "$WORK/intr/run.json" 'd["status"]')" = interrupted ] || fail "status: $(json "$WORK/intr/run.json" 'd["status"]')"; ok
json "$WORK/intr/run.json" 'any(f["workload"]=="compute" and "signal 9" in f["reason"] for f in d["failures"])' | grep -q True \
  || fail "the killed workload is not recorded: $(json "$WORK/intr/run.json" 'd["failures"]')"
ok "the workload killed in its container is recorded as killed by signal 9"
[ -s "$(ls -d "$WORK"/intr/segments/001-*)/segment.json" ] || fail "the finished segment was lost"; ok
[ -s "$WORK/intr/report.md" ] || fail "no report for the interrupted run"; ok
[ -z "$(leftovers "$id")" ] || fail "left behind after SIGINT: $(leftovers "$id")"
ok "nothing left behind after the kill and SIGINT"
finish
