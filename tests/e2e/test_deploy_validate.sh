#!/usr/bin/env bash
# The golden Compose files through Debian's docker-compose (`config`, which
# checks them against the Compose schema) and the golden Kubernetes objects
# against the Kubernetes OpenAPI schema (tests/k8s_validate, offline).
# Skipped (exit 77) where the tools are missing, except under CI.
source "$(dirname "$0")/lib.sh"
SRC=$COTENANT_SOURCE_DIR
missing=()
command -v docker-compose >/dev/null || missing+=("docker-compose (apt-get install docker-compose)")
[ -d "$SRC/tests/k8s_validate/node_modules/kubernetes-models" ] && command -v node >/dev/null \
  || missing+=("the validator (npm ci --prefix tests/k8s_validate)")
if [ ${#missing[@]} -gt 0 ]; then
  [ "${CI:-}" = true ] && fail "missing under CI: ${missing[*]}"
  echo "SKIPPED: missing ${missing[*]}"; exit 77
fi
for f in "$SRC"/tests/golden/deploy/compose-*.yaml; do
  mkdir -p "$WORK/c" && cp "$f" "$WORK/c/compose.yaml"
  (cd "$WORK/c" && docker-compose -f compose.yaml config -q) 2>"$WORK/err" || fail "docker-compose config $(basename "$f"): $(cat "$WORK/err")"
done
# a broken file is caught, so the check above means something
sed 's/driver: nvidia/driver: [nvidia]/' "$SRC/tests/golden/deploy/compose-mps.yaml" >"$WORK/c/compose.yaml"
(cd "$WORK/c" && docker-compose -f compose.yaml config -q) 2>/dev/null && fail "docker-compose accepted a broken file"
node "$SRC/tests/k8s_validate/validate.mjs" "$SRC"/tests/golden/deploy/k8s-*.yaml >"$WORK/out" 2>&1 || fail "k8s: $(cat "$WORK/out")"; ok
# 3 Jobs each (two workloads and the GPU sampler) in exclusive, timeslice and mig, 4 for the served pair,
# and the ConfigMaps: 1 for mps, 2 for mig
grep -q "^16 object(s) valid, 0 invalid" "$WORK/out" || fail "k8s count: $(cat "$WORK/out")"; ok
sed 's/restartPolicy: Never/restartPolicy: 7/' "$SRC/tests/golden/deploy/k8s-mig.yaml" >"$WORK/bad.yaml"
node "$SRC/tests/k8s_validate/validate.mjs" "$WORK/bad.yaml" >/dev/null 2>&1 && fail "the validator accepted a broken Job"
finish
