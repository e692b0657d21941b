#!/usr/bin/env python3
"""A workload that reports steps through the event protocol and then
misbehaves one way (or, as steady, does not): ignore (SIGTERM), stall (stops reporting, still alive),
close (closes its event descriptor, still alive), chatty (40 MiB of
stdout, then behaves). Usage: misbehaving_workload.py MODE."""
import os, signal, sys, time

mode = sys.argv[1]
ev = os.fdopen(int(os.environ["COTENANT_EVENTS_FD"]), "w", buffering=1)
now = lambda: time.clock_gettime_ns(time.CLOCK_MONOTONIC)
ev.write('{"ev":"start","t":%d,"unit":"items"}\n' % now())
if mode == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if mode == "chatty":
    for _ in range(40):
        sys.stdout.buffer.write(b"y" * (1 << 20))
    sys.stdout.flush()
t0 = time.time()
while True:
    ev.write('{"ev":"step","t":%d,"n":1}\n' % now())
    time.sleep(0.01)
    if time.time() - t0 > 1.2:
        if mode == "stall":
            time.sleep(3600)
        if mode == "close":
            ev.close()
            time.sleep(3600)
