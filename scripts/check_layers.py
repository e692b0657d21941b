#!/usr/bin/env python3
"""Fails on an #include that points up the layers of src/, or on a cycle
of includes between files. The order, lowest first, is docs/architecture.md's;
a folder may include its own files and any folder below it.

Usage: scripts/check_layers.py [SRC_DIR]   (default: src next to this script)
Prints each back edge and cycle, and exits 1 if there is any not listed in
KNOWN below (each a step of the layering still to be taken), 0 otherwise."""
import os, re, sys

LAYERS = ["util", "sys", "host", "net", "events", "telemetry", "mig", "gpuset", "mode/desc", "scenario", "mode", "plan",
          "workload", "deploy", "exec", "analysis", "report", "cli", "."]
# Back edges that remain, to be removed, never added to: a file, and the
# header it includes from a layer above its own.
KNOWN = set()

src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
rank = {name: i for i, name in enumerate(LAYERS)}
include = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
graph, problems, known_seen = {}, [], set()
for root, _, files in os.walk(src):
    for f in files:
        if not f.endswith((".c", ".h")):
            continue
        path = os.path.relpath(os.path.join(root, f), src)
        folder = os.path.dirname(path) or "."
        if folder not in rank:
            problems.append("%s: folder %s is not in the layer order (scripts/check_layers.py, docs/architecture.md)"
                            % (path, folder))
            continue
        graph[path] = []
        for inc in include.findall(open(os.path.join(root, f), encoding="utf-8", errors="replace").read()):
            target = os.path.normpath(inc)
            tfolder = os.path.dirname(target) or "."
            if not os.path.exists(os.path.join(src, target)):
                continue  # generated (version.h) or a workload's own
            graph[path].append(target)
            if tfolder in rank and rank[tfolder] > rank[folder]:
                if (path, target) in KNOWN:
                    known_seen.add((path, target))
                else:
                    problems.append("%s includes %s: %s is above %s" % (path, target, tfolder, folder))

# cycles among files: depth-first search for a back edge
state, stack = {}, []
def visit(node):
    state[node] = 1
    stack.append(node)
    for nxt in graph.get(node, []):
        if state.get(nxt) == 1:
            problems.append("include cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
        elif nxt not in state:
            visit(nxt)
    stack.pop()
    state[node] = 2
sys.setrecursionlimit(10000)
for n in sorted(graph):
    if n not in state:
        visit(n)

for k in sorted(KNOWN - known_seen):
    print("note: %s no longer includes %s: remove it from KNOWN" % k)
for p in problems:
    print("layers: " + p)
print("layers: %d files, %d known back edge%s left, %s" % (len(graph), len(known_seen), "" if len(known_seen) == 1 else "s",
      "no new back edge or cycle" if not problems else "%d problem%s" % (len(problems), "" if len(problems) == 1 else "s")))
sys.exit(1 if problems or KNOWN - known_seen else 0)
