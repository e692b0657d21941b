#!/usr/bin/env bash
# Runs the steps of docs/containers.md ("Kubernetes with the NVIDIA device
# plugin") against your cluster and says which hold: the node is there and
# offers GPUs, cotenant writes the cluster config, the cluster takes it, a
# short scenario runs through the device plugin to a report, and nothing of
# the run is left (Jobs, the node's label).
#
#   scripts/k8s-smoke.sh --node NODE --image IMAGE [--namespace NS]
#       [--plugin-namespace NS] [--scenario FILE] [--mode MODE]
#       [--duration D] [--out DIR] [--no-apply]
#
# --no-apply leaves the cluster config alone (apply it and point the device
# plugin at it yourself first). Environment: COTENANT (the cotenant binary,
# default build/bin/cotenant, else cotenant on PATH), COTENANT_KUBECTL (the
# kubectl command). Exits 0 when every step holds, 1 when one does not, 2
# on bad usage.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
header() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
usage() { header | sed -n '/^  scripts/,/^$/p' >&2; echo "k8s-smoke: $*" >&2; exit 2; }

duration=10s node= image= ns=default plugin_ns=gpu-operator scenario=$here/scenarios/two-gemms.yaml mode=timeslice out= apply=1
while [ $# -gt 0 ]; do
  case "$1" in
  --node) node=${2:-}; shift 2 ;;
  --image) image=${2:-}; shift 2 ;;
  --namespace) ns=${2:-}; shift 2 ;;
  --plugin-namespace) plugin_ns=${2:-}; shift 2 ;;
  --scenario) scenario=${2:-}; shift 2 ;;
  --mode) mode=${2:-}; shift 2 ;;
  --duration) duration=${2:-}; shift 2 ;;
  --out) out=${2:-}; shift 2 ;;
  --no-apply) apply=0; shift ;;
  -h|--help) header; exit 0 ;;
  *) usage "unknown argument '$1'" ;;
  esac
done
[ -n "$node" ] || usage "--node NODE is required (the GPU node to measure on)"
[ -n "$image" ] || usage "--image IMAGE is required (cotenant's image, pushed where the cluster pulls from)"
[ -f "$scenario" ] || usage "--scenario $scenario: no such file"
cot=${COTENANT:-$here/build/bin/cotenant}
[ -x "$cot" ] || cot=$(command -v cotenant) || usage "no cotenant binary (build it, or set COTENANT)"
read -r -a kubectl <<<"${COTENANT_KUBECTL:-kubectl}"
command -v "${kubectl[0]}" >/dev/null || usage "${kubectl[0]} is not installed (or set COTENANT_KUBECTL)"
out=${out:-$(mktemp -d "${TMPDIR:-/tmp}/k8s-smoke.XXXXXX")}
mkdir -p "$out"
log=$out/smoke.log
: >"$log"

passed=0 failed=0
step() { # step NAME COMMAND...: runs it, its output into the log; PASS or FAIL
  local name=$1; shift
  echo "== $name: $*" >>"$log"
  if "$@" >>"$log" 2>&1; then echo "PASS  $name"; passed=$((passed + 1)); return 0; fi
  echo "FAIL  $name (see $log)"; failed=$((failed + 1)); return 1
}
k() { "${kubectl[@]}" "$@"; }
label_of() { k get node "$node" -o "jsonpath={.metadata.labels.nvidia\.com/device-plugin\.config}" 2>/dev/null; }
gpus_offered() { local n; n=$(k get node "$node" -o "jsonpath={.status.allocatable.nvidia\.com/gpu}") && [ "${n:-0}" -ge 1 ]; }
node_named() { [ "$(k get node "$node" -o 'jsonpath={.metadata.name}')" = "$node" ]; }
point_plugin() {
  if ! k get clusterpolicies.nvidia.com cluster-policy -o name; then
    echo "no GPU Operator ClusterPolicy: point the device plugin's Helm chart at the ConfigMap yourself" \
         "(--set config.name=cotenant-device-plugin-config)"
    return 0
  fi
  k patch clusterpolicies.nvidia.com/cluster-policy --type merge \
    -p '{"spec":{"devicePlugin":{"config":{"name":"cotenant-device-plugin-config"}}}}'
}
run_done() {
  python3 - "$out/results" <<'PY'
import json, os, sys
r = sys.argv[1]
run = json.load(open(os.path.join(r, "run.json")))
assert run["status"] == "complete", f"run status {run['status']}: {run.get('failures')}"
assert run["executor"] == "k8s"
assert os.path.getsize(os.path.join(r, "report.md")) > 0
m = json.load(open(os.path.join(r, "metrics.json")))
for mo in m["modes"]:
    for w in mo["workloads"]:
        v = (w.get("shared_throughput") or w.get("alone_throughput") or {}).get("mean")
        assert v and v > 0, f"{mo['mode']}/{w['name']}: no throughput"
print("complete, with a throughput for every workload")
PY
}
no_jobs_left() {
  local id left
  id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$out/results/run.json") || return 1
  left=$(k get jobs -n "$ns" -l "cotenant.io/run=$id" -o name) || return 1
  [ -z "$left" ] || { echo "left: $left"; return 1; }
}

step "the node $node is there" node_named || { echo "k8s smoke: stopped, the cluster or node cannot be reached"; exit 1; }
step "it offers nvidia.com/gpu" gpus_offered
before=$(label_of)
step "cotenant writes the cluster config" "$cot" deploy k8s "$scenario" --mode "$mode" --namespace "$ns" \
  --plugin-namespace "$plugin_ns" --node "$node" --image "$image" --out "$out/deploy"
if [ $apply = 1 ]; then
  step "the cluster takes the config" k apply -f "$out/deploy/cluster-config.yaml"
  step "the device plugin reads it" point_plugin
fi
step "the scenario runs to a report" "$cot" run "$scenario" --modes "$mode" --executor k8s --node "$node" \
  --namespace "$ns" --plugin-namespace "$plugin_ns" --image "$image" --out "$out/results" --duration "$duration" --repeats 1
step "the run is complete, with figures" run_done
step "no Job of the run is left" no_jobs_left
step "the node's label is as it was ('$before')" test "$(label_of)" = "$before"
echo "k8s smoke: $passed passed, $failed failed; results and log in $out"
[ $failed = 0 ]
