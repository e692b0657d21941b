#!/usr/bin/env python3
"""cotenant-serve's UINT8 input against its FP32 input, on a machine with a
GPU: two resnet50 servers with the same weights, one taking pixels (UINT8,
normalised on the GPU) and one taking tensors (FP32); the same images go to
both, normalised here for the FP32 one as torchvision's ToTensor() and
Normalize(ImageNet mean and std) would. The logits must agree to bf16's
precision and the top-1 classes must match.
Usage: gpu_check_serve_uint8.py [BIN_DIR]   (default build/bin). Standard library only."""
import http.client, json, random, re, signal, struct, subprocess, sys

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/bin"
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
SIDE, BATCH = 224, 3


def start(dtype):
    p = subprocess.Popen([BIN + "/cotenant-serve", "--model", "resnet50", "--listen", "127.0.0.1:0", "--max-batch", "4",
                          "--instances", "1", "--input-dtype", dtype], stdout=subprocess.PIPE, text=True)
    m = re.search(r":(\d+)/v2", p.stdout.readline())
    if not m:
        p.kill()
        sys.exit("gpu_check_serve_uint8: the %s server did not start" % dtype)
    return p, int(m.group(1))


def infer(port, dtype, raw):
    header = json.dumps({"inputs": [{"name": "input", "shape": [BATCH, 3, SIDE, SIDE], "datatype": dtype,
                                     "parameters": {"binary_data_size": len(raw)}}],
                         "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}).encode()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("POST", "/v2/models/resnet50/infer", body=header + raw,
              headers={"Inference-Header-Content-Length": str(len(header)), "Content-Type": "application/octet-stream"})
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit("gpu_check_serve_uint8: %s request answered %d: %s" % (dtype, r.status, body[:300]))
    n = int(r.getheader("Inference-Header-Content-Length"))
    out = body[n:]
    return struct.unpack("<%df" % (len(out) // 4), out)


rng = random.Random(7)
pixels = bytes(rng.randrange(256) for _ in range(BATCH * 3 * SIDE * SIDE))
plane = SIDE * SIDE
floats = [(v / 255.0 - MEAN[(i // plane) % 3]) / STD[(i // plane) % 3] for i, v in enumerate(pixels)]
servers = [start("UINT8"), start("FP32")]
try:
    a = infer(servers[0][1], "UINT8", pixels)
    b = infer(servers[1][1], "FP32", struct.pack("<%df" % len(floats), *floats))
finally:
    for p, _ in servers:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
num = sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5
den = sum(y * y for y in b) ** 0.5
rel = num / den if den else float("inf")
top = [max(range(1000), key=lambda k: v[i * 1000 + k]) for v in (a, b) for i in range(BATCH)]
same_top = sum(top[i] == top[BATCH + i] for i in range(BATCH))
print("UINT8 against FP32 input: logits relative L2 %.2e, top-1 agrees %d/%d" % (rel, same_top, BATCH))
sys.exit(0 if rel < 2e-2 and same_top == BATCH and len(a) == len(b) == BATCH * 1000 else 1)
