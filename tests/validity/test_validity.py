"""The validity suite: cotenant's figures against workloads whose true rates
are known exactly (validity_synth), each within a stated tolerance, or
flagged with the reason it cannot be trusted.

    python3 tests/validity/test_validity.py BIN_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from checks import check, finish  # noqa: E402

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/bin")
SYNTH = os.path.join(BIN, "validity_synth")
TOL = 0.005  # throughput cases: 0.5%
WORK = tempfile.mkdtemp(prefix="cotenant-validity-")


def run(name, yaml_text):
    path = os.path.join(WORK, name + ".yaml")
    with open(path, "w") as f:
        f.write(yaml_text)
    out = os.path.join(WORK, name)
    p = subprocess.run([os.path.join(BIN, "cotenant"), "run", path, "-o", out, "-q"], capture_output=True, text=True)
    print("# %s: exit %d" % (name, p.returncode))
    if p.returncode != 0:
        print(p.stderr[-3000:], file=sys.stderr)
    with open(os.path.join(out, "metrics.json")) as f:
        return json.load(f), p.stderr


def workload(metrics, name):
    for w in metrics["modes"][0]["workloads"]:
        if w["name"] == name:
            return w
    return {}


def mean(w, key):
    return (w.get(key) or {}).get("mean")


def close(got, want, what):
    ok = got is not None and abs(got - want) <= TOL * abs(want)
    check(ok, "%s: %s, true %.4f (within %.1f%%)" % (what, "none" if got is None else "%.4f" % got, want, TOL * 100))


def verdict(metrics, name, figure="throughput"):
    v = (workload(metrics, name).get("validity") or {}).get(figure) or {}
    return v.get("verdict"), " ".join(v.get("reasons") or [])


def flags_of(metrics, name):
    return " ".join(" ".join(f["flags"]) for f in metrics.get("flagged") or [] if f["workload"] == name)


def scenario(name, workloads, duration="12s", warmup="1s", modes="[timeslice]", repeats=1, extra=""):
    """A CPU scenario's YAML; workloads: (name, the rest of its flow mapping)."""
    rows = "".join("  - {name: %s, %s}\n" % w for w in workloads)
    return "name: %s\ndevice: cpu\nmodes: %s\nduration: %s\nwarmup: %s\nrepeats: %d\n%sworkloads:\n%s" % (
        name, modes, duration, warmup, repeats, extra, rows)


def synth(peers, *streams, extra=""):
    args = ", ".join('"--stream", "%s"' % s for s in streams)
    return '[%s, %s, "--peers", "%s"%s]' % (SYNTH, args, peers, extra)


# 1. The window's end: steps of seconds, from workloads that exit at once on
# SIGTERM (Python's default). Alone and shared periods give NP 0.370.
peers = os.path.join(WORK, "peers1")
m, _ = run("edges", scenario("edges", [
    ("big", "command: " + synth(peers, "-:100:0.925:2.5", extra=', "--on-term", "exit"')),
    ("huge", "command: " + synth(peers, "-:100:1.998:5.4", extra=', "--on-term", "exit"'))]))
for name, alone, shared in (("big", 0.925, 2.5), ("huge", 1.998, 5.4)):
    w = workload(m, name)
    close(mean(w, "alone_throughput"), 100 / alone, "%s (%.1f s steps) alone /s" % (name, shared))
    close(mean(w, "shared_throughput"), 100 / shared, "%s (%.1f s steps) shared /s" % (name, shared))
    close(mean(w, "normalized_progress"), alone / shared, "%s (%.1f s steps) NP" % (name, shared))

for name in ("big", "huge"):
    check(verdict(m, name)[0] == "VALID", "%s: VALID %s" % (name, verdict(m, name)))

# 2. The same when the grace period is too short to wait for the step after
# the window's end: measured up to the last step inside it. Clocks that are
# not cotenant's, lost lines, several step streams, and steps too long for
# the window alongside.
peers = os.path.join(WORK, "peers2")
m, err = run("clocks", scenario("clocks", [
    ("cut", "command: " + synth(peers, "-:100:1.998:5.4", extra=', "--on-term", "exit"')),
    ("raw", "command: " + synth(peers, "-:1:0.01", extra=', "--clock", "raw"')),
    ("behind", "command: " + synth(peers, "-:1:0.01", extra=', "--clock-offset", "-20"')),
    ("slow", "command: " + synth(peers, "-:100:7")),
    ("lossy", "command: " + synth(peers, "-:1:0.01", extra=', "--oversize-every", "10"')),
    ("streams", "command: " + synth(peers, "slow:200:2", "fast:1:0.01", extra=', "--on-term", "exit"')),
    ("unnamed", "command: " + synth(peers, "-:200:2", "-:1:0.01", extra=', "--on-term", "exit"')),
    ("longlines", "command: " + synth(peers, "-:1:0.01", extra=', "--oversize-every", "10:5000"')),
    ("drifting", "command: " + synth(peers, "-:1:0.01", extra=', "--clock-rate", "1.01"'))], extra="grace: 1s\n"))
w = workload(m, "cut")
close(mean(w, "shared_throughput"), 100 / 5.4, "cut (5.4 s steps, 1 s grace) shared /s")
close(mean(w, "normalized_progress"), 1.998 / 5.4, "cut (5.4 s steps, 1 s grace) NP")
for name in ("raw", "behind"):
    w = workload(m, name)
    close(mean(w, "alone_throughput"), 100, "%s clock: alone /s" % name)
    close(mean(w, "shared_throughput"), 100, "%s clock: shared /s" % name)
f = flags_of(m, "behind")
check("20.0" in f and "corrected" in f, "behind clock: flagged as corrected by its offset (%s)" % f[:120])
check(verdict(m, "behind")[0] == "VALID", "behind clock: corrected, so VALID %s" % (verdict(m, "behind"),))
f = flags_of(m, "lossy")
check("could not be read" in f, "lost lines: flagged with the count (%s)" % f[:160])
check("could not be read" in err, "lost lines: said on stderr")
v = verdict(m, "lossy")
check(v[0] == "INVALID" and "event lines lost" in v[1], "lost lines: INVALID with the reason %s" % (v,))
v = verdict(m, "slow")
check(v[0] == "INVALID" and "fewer than two of its steps" in v[1], "7 s steps in a 12 s window: INVALID %s" % (v,))
reasons = m["validity"]["reasons"]
check(m["validity"]["invalid"] >= 2 and "lost event lines" in reasons and "a window too short for the steps" in reasons,
      "the summary counts the invalid figures and their reasons: %s" % m["validity"])
with open(os.path.join(WORK, "clocks", "report.md")) as rf:
    report = rf.read()
check("figures are INVALID" in report and "lost event lines" in report, "the report's summary says how many are INVALID and why")
w = workload(m, "streams")
close(mean(w, "alone_throughput"), 200, "two named streams (200 every 2 s, 1 every 10 ms): alone /s")
close(mean(w, "shared_throughput"), 200, "two named streams: shared /s")
check(verdict(m, "streams")[0] == "VALID", "two named streams: VALID %s" % (verdict(m, "streams"),))
v = verdict(m, "unnamed")
check(v[0] == "INVALID" and "must name their stream" in v[1], "the same streams unnamed: INVALID %s" % (v,))
w = workload(m, "longlines")
close(mean(w, "shared_throughput"), 100, "every 10th line 5000 bytes long (over the old 4096-byte limit): shared /s")
check(verdict(m, "longlines")[0] == "VALID", "lines of 5000 bytes: VALID %s" % (verdict(m, "longlines"),))
v = verdict(m, "drifting")
check(v[0] == "INVALID" and "drift" in v[1], "a clock 1%% fast (drifting) cannot be corrected: INVALID %s %s" % (v[0], v[1][:160]))

# 3. One baseline across modes: a mode that throttles a workload even alone
# (as MPS limits do) is judged against each workload alone on the whole GPU
# too. a: 100/s alone on the whole GPU (exclusive), 80/s alone under
# timeslice (throttled), 50/s shared; b: 100/s alone, 50/s shared. In-mode
# NP: 0.625 and 0.5 (STP 1.125); against the whole GPU: 0.5 and 0.5 (STP 1).
peers = os.path.join(WORK, "peers4")
m, _ = run("baseline", scenario("baseline", [
    ("a", "command: " + synth(peers, "-:1:0.01:0.02", extra=', "--alone-in", "timeslice:0.0125"')),
    ("b", "command: " + synth(peers, "-:1:0.01:0.02"))], duration="4s", warmup="0.5s", modes="[exclusive, timeslice]",
    repeats=2))
ts = [mo for mo in m["modes"] if mo["mode"] == "timeslice"][0]
for w, np_in in (("a", 0.625), ("b", 0.5)):
    wo = [x for x in ts["workloads"] if x["name"] == w][0]
    close(mean(wo, "normalized_progress"), np_in, "baseline: %s's in-mode NP (against its own alone run in timeslice)" % w)
    close(mean(wo, "normalized_progress_common"), 0.5, "baseline: %s's NP against the whole GPU" % w)
close((ts.get("stp") or {}).get("mean"), 1.125, "baseline: in-mode STP")
close((ts.get("stp_common") or {}).get("mean"), 1.0, "baseline: STP against the whole GPU")
check(ts.get("baseline") == "exclusive", "baseline: named (%s)" % ts.get("baseline"))

# 4. An open-loop client at 1.5x its server's capacity (one request at a
# time, 200 ms each: 5/s, against 7.5/s asked, on a constant schedule).
# Requests belong to the window in which they were due: 105 in 14 s, those
# still queued at its end included (with their age, so the percentile is a
# lower bound); counting completions instead would give about 70.
m, _ = run("overload", scenario("overload", [
    ("server", 'kind: serve-cpu, args: [--max-batch, "1", --batch-time, 200ms, --max-queue-delay, "0"]'),
    ("client", 'kind: loadgen, target: server, args: [--rate, "7.5", --arrival, constant, --concurrency, "64", '
               '--timeout, 60s], slo: 1s')], duration="14s"))
lat = (workload(m, "client").get("latency_ms") or {}).get("alone") or {}
due = lat.get("requests")
check(due is not None and abs(due - 105) <= 1,
      "overload: requests due in the window %s, true 105 (7.5/s x 14 s, +-1 for the phase)" % due)
check((lat.get("failed_or_unanswered") or 0) > 0, "overload: the backlog at the window's end is counted (%s unanswered)"
      % lat.get("failed_or_unanswered"))
p99 = lat.get("p99") or {}
check(p99.get("at_least") is True and (p99.get("value") or 0) > 1000,
      "overload: p99 %s ms is marked a lower bound (at_least)" % p99.get("value"))
check(p99.get("n") == due, "overload: p99's sample count is the requests due (%s)" % p99.get("n"))
check(lat.get("p99_9", {}).get("n_too_small") is not None, "overload: p99.9 of %s requests is 'n too small'" % due)
v = verdict(m, "client", "latency")
check(v[0] == "INVALID" and "lower bound" in v[1], "overload: the client's latency is INVALID as a lower bound %s" % (v,))
finish()
