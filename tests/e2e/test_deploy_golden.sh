#!/usr/bin/env bash
# cotenant deploy compose|k8s: the files written for two scenarios, in every
# mode, byte for byte against tests/golden/deploy (COTENANT_UPDATE_GOLDEN=1
# rewrites them after a deliberate change); and what deploy refuses.
source "$(dirname "$0")/lib.sh"
SRC=$COTENANT_SOURCE_DIR
GOLD=$SRC/tests/golden/deploy
S=$SRC/tests/data/deploy-scenario.yaml K=$SRC/tests/data/deploy-k8s-scenario.yaml
gen() { # NAME FILE-IN-OUT ARGS...
  local name=$1 file=$2; shift 2
  "$COT" deploy "$@" --out "$WORK/$name" --run-id golden >"$WORK/$name.out" 2>&1 || fail "deploy $*: $(cat "$WORK/$name.out")"; ok
  cp "$WORK/$name/$file" "$WORK/$name.yaml"
}
gen compose-timeslice compose.yaml compose "$S" --mode timeslice --user 1000:1000
gen compose-mps compose.yaml compose "$S" --mode mps --user 1000:1000
gen compose-mig compose.yaml compose "$S" --mode mig --user 1000:1000 --mig-device trainer=MIG-11111111-2222-3333-4444-555555555555 \
  --mig-device server=MIG-66666666-7777-8888-9999-000000000000 --mig-device notebook=MIG-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
gen k8s-exclusive jobs.yaml k8s "$K" --mode exclusive
gen k8s-timeslice jobs.yaml k8s "$K" --mode timeslice --namespace bench
gen k8s-mps-config cluster-config.yaml k8s "$K" --mode mps --plugin-namespace nvidia-device-plugin
gen k8s-mig jobs.yaml k8s "$K" --mode mig --node gpu-node-1
gen k8s-served jobs.yaml k8s "$S" --mode mps --node gpu-node-1
cp "$WORK/k8s-mig/cluster-config.yaml" "$WORK/k8s-mig-config.yaml"
for f in compose-timeslice compose-mps compose-mig k8s-exclusive k8s-timeslice k8s-mps-config k8s-mig k8s-mig-config k8s-served; do
  if [ "${COTENANT_UPDATE_GOLDEN:-}" = 1 ]; then cp "$WORK/$f.yaml" "$GOLD/$f.yaml"; continue; fi
  diff -u "$GOLD/$f.yaml" "$WORK/$f.yaml" || fail "$f.yaml differs from tests/golden/deploy (COTENANT_UPDATE_GOLDEN=1 if meant)"; ok
done
[ -d "$WORK/compose-mps/results" ] && [ -d "$WORK/compose-mps/mps" ] || fail "compose folders"; ok
grep -q "kubectl label node gpu-node-1 nvidia.com/mig.config=cotenant-1x3g-40gb-1x2g-20gb-1x1g-10gb" "$WORK/k8s-mig.out" \
  && fail "the k8s scenario has no 2g" || true
grep -q "kubectl label node gpu-node-1 nvidia.com/mig.config=cotenant-2x3g-40gb --overwrite" "$WORK/k8s-mig.out" || fail "steps: $(cat "$WORK/k8s-mig.out")"; ok

# refusals: exit 2, and why
refuse() { # EXPECTED ARGS...
  local want=$1; shift
  local rc=0
  "$COT" deploy "$@" --out "$WORK/refused" >"$WORK/r.out" 2>&1 || rc=$?
  [ $rc = 2 ] && grep -q -- "$want" "$WORK/r.out" || fail "deploy $*: rc $rc: $(cat "$WORK/r.out")"; ok
  [ ! -e "$WORK/refused/compose.yaml" ] || fail "deploy $* wrote a file"; ok
}
# a server and its load generator share one pod (one network); only the server asks for a GPU
grep -q "(4 Jobs, mode mps)" "$WORK/k8s-served.out" || fail "served: $(cat "$WORK/k8s-served.out")"; ok
[ "$(grep -c '^      - name: ' "$WORK/k8s-served.yaml")" = 5 ] || fail "served: 5 containers in 4 pods expected"; ok
awk '/name: golden-server$/,/^---/' "$WORK/k8s-served.yaml" >"$WORK/pod.yaml"
grep -q -- "- name: server" "$WORK/pod.yaml" && grep -q -- "- name: client" "$WORK/pod.yaml" || fail "served pod: $(cat "$WORK/pod.yaml")"; ok
[ "$(grep -c 'nvidia.com/gpu: 1' "$WORK/pod.yaml")" = 1 ] || fail "served pod: one GPU request expected"; ok
grep -A1 -- "- --wait-ready" "$WORK/pod.yaml" | grep -q '"18081"' || fail "the load generator waits for its server"; ok
refuse "mig-emulated sets per-client MPS limits" compose "$S" --mode mig-emulated
refuse "needs --mig-device server=MIG-<uuid>" compose "$S" --mode mig --mig-device trainer=MIG-1
refuse "no workload nope" compose "$S" --mode mig --mig-device nope=MIG-1
refuse "unknown target 'swarm'" swarm "$S"
refuse "expected a target" compose
# The image's user is a number (a kubelet checks runAsNonRoot against it),
# and the one the Jobs give as runAsUser.
grep -Eq '^USER [0-9]+:[0-9]+$' "$COTENANT_SOURCE_DIR/Dockerfile" || fail "Dockerfile: $(grep '^USER' "$COTENANT_SOURCE_DIR/Dockerfile")"; ok
uid=$(sed -n 's/^USER \([0-9]*\):.*/\1/p' "$COTENANT_SOURCE_DIR/Dockerfile")
grep -q "runAsUser: $uid$" "$COTENANT_SOURCE_DIR/tests/golden/deploy/k8s-timeslice.yaml" || fail "the Jobs run as another user than the image's $uid"; ok
mkdir -p "$WORK/full" && touch "$WORK/full/x"
rc=0; "$COT" deploy compose "$S" --out "$WORK/full" >"$WORK/r.out" 2>&1 || rc=$?
[ $rc = 2 ] && grep -q "not empty" "$WORK/r.out" || fail "a full folder: $(cat "$WORK/r.out")"; ok
finish
