# A results folder whose disk fills up: for half a second mid-window (the
# workload whose events could not be written fails, with the reason; the
# run exits 1, not "complete"), and for good after the first segment (the
# run ends with run.json marked failed and the reason, the finished segment
# intact). The disk is a 16 MiB tmpfs in a mount namespace of the test's
# own, so this needs root; elsewhere it is skipped (exit 77), not passed.
if [ -z "${COTENANT_IN_MOUNT_NS:-}" ]; then
  if [ "$(id -u)" != 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
    echo "needs root and a mount namespace for a small tmpfs: skipped" >&2
    exit 77
  fi
  COTENANT_IN_MOUNT_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
source "$(dirname "$0")/lib.sh"
W=$(cd "$(dirname "$0")" && pwd)/misbehaving_workload.py
mkdir "$WORK/disk"
mount -t tmpfs -o size=16m tmpfs "$WORK/disk"
fill() { dd if=/dev/zero of="$WORK/disk/fill" bs=64k 2>/dev/null || true; }
scenario() { # FILE WORKLOADS...
  local f=$1; shift
  printf 'name: full\ndevice: cpu\nmodes: [timeslice]\nrepeats: 1\nwarmup: 0.3s\nduration: 3s\ntelemetry_interval: off\nworkloads:\n' > "$f"
  for w; do printf '  - {name: %s, command: [python3, "%s", steady]}\n' "$w" "$W" >> "$f"; done
}

# full for a moment, mid-window
scenario "$WORK/a.yaml" steady
"$COT" run -q "$WORK/a.yaml" --out "$WORK/disk/a" >/dev/null 2>"$WORK/err" & pid=$!
ev=$WORK/disk/a/segments/.001-r1-timeslice-alone-steady.partial/steady/events.jsonl
for _ in $(seq 100); do [ "$(wc -l < "$ev" 2>/dev/null || echo 0)" -gt 80 ] && break; sleep 0.05; done
fill; sleep 0.5; rm -f "$WORK/disk/fill"
set +e; wait $pid; rc=$?; set -e
[ $rc = 1 ] || fail "a disk full for a moment: exit $rc, expected 1 ($(cat "$WORK/err"))"
s=$WORK/disk/a/segments/001-r1-timeslice-alone-steady/segment.json
[ "$(json "$s" 'd["results"]["steady"]["status"]')" = failed ] || fail "status: $(json "$s" 'd["results"]["steady"]')"
reason=$(json "$s" 'd["results"]["steady"]["reason"]')
[[ $reason == *"events could not be written to events.jsonl (No space left on device)"* ]] || fail "reason: $reason"
[ "$(json "$WORK/disk/a/run.json" 'd["status"]')" = failed ] || fail "run status"
ok "full for 0.5 s: ${reason%%:*}; the run is failed, not complete"

# full for good after the first segment
rm -rf "$WORK/disk/a"
scenario "$WORK/b.yaml" one two
"$COT" run -q "$WORK/b.yaml" --out "$WORK/disk/b" >/dev/null 2>"$WORK/err" & pid=$!
for _ in $(seq 200); do [ -s "$WORK/disk/b/segments/001-r1-timeslice-alone-one/segment.json" ] && break; sleep 0.05; done
fill
set +e; wait $pid; rc=$?; set -e
[ $rc = 1 ] || fail "a full disk: exit $rc, expected 1 ($(cat "$WORK/err"))"
[ "$(json "$WORK/disk/b/run.json" 'd["status"]')" = failed ] || fail "run.json status: $(json "$WORK/disk/b/run.json" 'd["status"]')"
why=$(json "$WORK/disk/b/run.json" 'd["error"]')
[[ $why == *"No space left on device"* ]] || fail "run.json's error: $why"
json "$WORK/disk/b/segments/001-r1-timeslice-alone-one/segment.json" 'd["results"]["one"]["status"]' | grep -qx ok ||
  fail "the finished segment is not intact"
ok "full for good: run.json failed ($why), the finished segment intact"
umount "$WORK/disk"
finish
