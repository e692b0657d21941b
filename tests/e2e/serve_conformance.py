#!/usr/bin/env python3
"""cotenant-serve over real HTTP on loopback: KServe v2 conformance, dynamic
batching, 503 on a full queue, 400/413 on bad input, graceful drain on
SIGTERM. Usage: serve_conformance.py BIN_DIR. Standard library only."""
import gzip, http.client, json, re, signal, socket, struct, subprocess, sys, threading, time, zlib

BIN = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


class Server:
    def __init__(self, *flags):
        self.p = subprocess.Popen([BIN + "/cotenant-serve", "--listen", "127.0.0.1:0", *flags],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        m = re.search(r":(\d+)/v2", line)
        if not m:
            raise SystemExit("server did not start: %r %s" % (line, self.p.stderr.read()))
        self.port = int(m.group(1))

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def request(self, method, path, body=None, headers=None):
        c = self.conn()
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        out, err = self.p.communicate(timeout=30)
        return self.p.returncode, out, err


def infer_json(rows, **extra):
    d = {"inputs": [{"name": "INPUT0", "shape": [len(rows), 64], "datatype": "FP32", "data": rows}]}
    d.update(extra)
    return json.dumps(d)


def rows(n, seed=0):
    return [[((i * 7 + j * 3 + seed) % 17) / 17.0 - 0.5 for j in range(64)] for i in range(n)]


def protocol():
    s = Server("--max-request-size", "64K")
    r, _ = s.request("GET", "/v2/health/live")
    check(r.status == 200, "live is 200")
    r, _ = s.request("GET", "/v2/health/ready")
    check(r.status == 200, "ready is 200")
    r, b = s.request("GET", "/v2")
    check(r.status == 200 and "binary_tensor_data" in json.loads(b)["extensions"], "server metadata lists binary_tensor_data")
    r, b = s.request("GET", "/v2/models/mlp")
    meta = json.loads(b)
    check(meta["inputs"][0] == {"name": "INPUT0", "datatype": "FP32", "shape": [-1, 64]}, "model metadata input: %s" % b)
    check(meta["outputs"][0]["shape"] == [-1, 10], "model metadata output")
    r, _ = s.request("GET", "/v2/models/mlp/ready")
    check(r.status == 200, "model ready")
    r, _ = s.request("GET", "/v2/models/mlp/versions/1")
    check(r.status == 200, "versioned metadata")

    # JSON in, JSON out; the id echoed; nested and flat data agree
    x = rows(3)
    r, b = s.request("POST", "/v2/models/mlp/infer", infer_json(x, id="req-1"), {"Content-Type": "application/json"})
    check(r.status == 200, "infer JSON: %d %s" % (r.status, b[:200]))
    out = json.loads(b)
    check(out["id"] == "req-1" and out["model_name"] == "mlp", "id and model name echoed")
    o = out["outputs"][0]
    check(o["name"] == "OUTPUT0" and o["shape"] == [3, 10] and o["datatype"] == "FP32" and len(o["data"]) == 30, "output tensor")
    flat = json.dumps({"inputs": [{"name": "INPUT0", "shape": [3, 64], "datatype": "FP32", "data": sum(x, [])}]})
    r, b2 = s.request("POST", "/v2/models/mlp/versions/1/infer", flat)
    check(json.loads(b2)["outputs"][0]["data"] == o["data"], "flat data gives the same answer as nested")
    # a batch answers as its items one by one
    singles = []
    for row in x:
        r, b3 = s.request("POST", "/v2/models/mlp/infer", infer_json([row]))
        singles += json.loads(b3)["outputs"][0]["data"]
    check(all(abs(a - b) < 1e-6 for a, b in zip(singles, o["data"])), "batch of 3 equals 3 single requests")

    # binary in, binary out
    head = json.dumps({"inputs": [{"name": "INPUT0", "shape": [3, 64], "datatype": "FP32",
                                   "parameters": {"binary_data_size": 3 * 64 * 4}}],
                       "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": True}}]}).encode()
    raw = struct.pack("<%df" % (3 * 64), *sum(x, []))
    r, b = s.request("POST", "/v2/models/mlp/infer", head + raw,
                     {"Inference-Header-Content-Length": str(len(head)), "Content-Type": "application/octet-stream"})
    check(r.status == 200, "binary infer: %d %s" % (r.status, b[:200]))
    hl = int(r.getheader("Inference-Header-Content-Length") or -1)
    check(hl > 0, "binary answer has Inference-Header-Content-Length")
    bh = json.loads(b[:hl])
    check(bh["outputs"][0]["parameters"]["binary_data_size"] == 120, "binary_data_size of the output")
    vals = struct.unpack("<30f", b[hl:])
    check(all(abs(a - b) < 1e-6 * max(1, abs(b)) for a, b in zip(vals, o["data"])), "binary output equals JSON output")

    # every malformed request is a 400 with a JSON error, and the server lives on
    bad = [b"not json", b"{}", infer_json(rows(1)).replace("INPUT0", "NOPE").encode(),
           infer_json(rows(1)).replace("FP32", "INT64").encode(),
           json.dumps({"inputs": [{"name": "INPUT0", "shape": [1, 63], "datatype": "FP32", "data": [0] * 63}]}).encode(),
           json.dumps({"inputs": [{"name": "INPUT0", "shape": [1, 64], "datatype": "FP32", "data": [0] * 65}]}).encode(),
           json.dumps({"inputs": [{"name": "INPUT0", "shape": [99, 64], "datatype": "FP32", "data": [0]}]}).encode()]
    for i, body in enumerate(bad):
        r, b = s.request("POST", "/v2/models/mlp/infer", body)
        check(r.status == 400 and "error" in json.loads(b), "bad request %d: 400 with an error: %d %s" % (i, r.status, b[:120]))
    r, b = s.request("POST", "/v2/models/mlp/infer", head + raw[:-1], {"Inference-Header-Content-Length": str(len(head))})
    check(r.status == 400 and b"needs 768" in b, "short binary data is a 400: %s" % b[:200])
    r, b = s.request("POST", "/v2/models/other/infer", infer_json(rows(1)))
    check(r.status == 404 and "error" in json.loads(b), "unknown model is 404")
    r, b = s.request("GET", "/v2/models/mlp/infer")
    check(r.status == 405 and r.getheader("Allow") == "POST", "GET on infer is 405 with Allow: POST")
    r, b = s.request("GET", "/nowhere")
    check(r.status == 404, "unknown path is 404")
    # over --max-request-size: 413, whether announced by Content-Length or not
    big = infer_json(rows(150))
    check(len(big) > 65536, "the large body exceeds 64K")
    r, b = s.request("POST", "/v2/models/mlp/infer", big)
    check(r.status == 413 and "error" in json.loads(b), "large body is 413: %d" % r.status)
    c = s.conn()
    c.putrequest("POST", "/v2/models/mlp/infer")
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    data = big.encode()
    for i in range(0, len(data), 8192):
        chunk = data[i:i + 8192]
        c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    c.send(b"0\r\n\r\n")
    r = c.getresponse()
    check(r.status == 413, "a chunked body over the limit is 413: %d" % r.status)
    c.close()
    # raw garbage on the socket: an error or a close, never a crash
    for junk in [b"\x00\x01\x02garbage\r\n\r\n", b"POST /v2/models/mlp/infer HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
                 b"GET " + b"a" * 100000 + b" HTTP/1.1\r\n\r\n"]:
        k = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        try:
            k.sendall(junk)
            k.recv(4096)
        except OSError:
            pass
        k.close()
    r, _ = s.request("GET", "/v2/health/live")
    check(r.status == 200, "alive after malformed requests")
    r, b = s.request("GET", "/metrics")
    text = b.decode()
    ok = int(re.search(r'nv_inference_request_success\{model="mlp",version="1"\} (\d+)', text).group(1))
    check(ok == 6, "metrics count 6 successful requests, got %d" % ok)
    check('cotenant_serve_rejected_total{model="mlp",reason="bad_request"} 8' in text, "8 malformed requests counted")
    check(re.search(r'cotenant_serve_rejected_total\{model="mlp",reason="too_large"\} 2', text), "2 too large counted")
    # Triton's failure counter by reason: the 10 refused requests are OTHER, none BACKEND
    check('nv_inference_request_failure{model="mlp",reason="OTHER",version="1"} 10' in text, "10 failures of reason OTHER")
    check('nv_inference_request_failure{model="mlp",reason="BACKEND",version="1"} 0' in text, "no BACKEND failure")
    check(re.search(r'nv_inference_pending_request_count\{model="mlp",version="1"\} \d+', text), "pending request gauge")
    rc, out, err = s.stop()
    check(rc == 0, "SIGTERM exits 0: %d %s" % (rc, err))


def perf_analyzer_sequence():
    """What perf_analyzer asks of a Triton server over HTTP before and while
    it measures (its model_parser.cc and the Triton HTTP client): server
    metadata, model metadata, the model configuration extension, then
    binary infer requests; also Triton's raw binary request and bodies sent
    with Content-Encoding gzip and deflate."""
    s = Server("--max-request-size", "64K", "--max-batch", "8", "--max-queue-delay", "3ms")
    r, b = s.request("GET", "/v2")
    ext = json.loads(b)["extensions"]
    check(r.status == 200 and "model_configuration" in ext and "binary_tensor_data" in ext,
          "server metadata lists model_configuration: %s" % b)
    r, b = s.request("GET", "/v2/models/mlp")
    meta = json.loads(b)
    r, b = s.request("GET", "/v2/models/mlp/config")
    check(r.status == 200, "GET .../config is 200: %d %s" % (r.status, b[:200]))
    cfg = json.loads(b)
    # read as perf_analyzer reads it
    check(cfg["name"] == "mlp" and isinstance(cfg["max_batch_size"], int) and cfg["max_batch_size"] == 8,
          "config max_batch_size: %s" % b)
    check([i["name"] for i in cfg["input"]] == [i["name"] for i in meta["inputs"]] == ["INPUT0"], "config inputs")
    check(cfg["input"][0]["data_type"] == "TYPE_FP32" and cfg["input"][0]["dims"] == [64]
          and cfg["input"][0]["is_shape_tensor"] is False and cfg["input"][0]["optional"] is False, "config input: %s" % b)
    check(cfg["output"][0] == {"name": "OUTPUT0", "data_type": "TYPE_FP32", "dims": [10], "is_shape_tensor": False},
          "config output: %s" % cfg["output"])
    check(cfg["dynamic_batching"]["max_queue_delay_microseconds"] == 3000, "dynamic batching delay: %s" % cfg.get("dynamic_batching"))
    check(cfg["instance_group"][0]["kind"] == "KIND_CPU" and cfg["instance_group"][0]["count"] == 1, "instance group")
    check("sequence_batching" not in cfg and "model_transaction_policy" not in cfg, "neither sequence nor decoupled")
    r, b = s.request("GET", "/v2/models/mlp/versions/1/config")
    check(r.status == 200 and json.loads(b)["name"] == "mlp", "versioned config")
    r, b = s.request("GET", "/v2/models/other/config")
    check(r.status == 404, "another model's config is 404")

    # the binary requests perf_analyzer sends: outputs asked as binary, or binary_data_output
    x = rows(2, seed=5)
    raw = struct.pack("<%df" % 128, *sum(x, []))
    r, b = s.request("POST", "/v2/models/mlp/infer", infer_json(x))
    want = json.loads(b)["outputs"][0]["data"]
    for head in ({"inputs": [{"name": "INPUT0", "shape": [2, 64], "datatype": "FP32", "parameters": {"binary_data_size": 512}}],
                  "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": True}}]},
                 {"inputs": [{"name": "INPUT0", "shape": [2, 64], "datatype": "FP32", "parameters": {"binary_data_size": 512}}],
                  "parameters": {"binary_data_output": True}}):
        h = json.dumps(head).encode()
        r, b = s.request("POST", "/v2/models/mlp/infer", h + raw,
                         {"Inference-Header-Content-Length": str(len(h)), "Content-Type": "application/octet-stream"})
        hl = int(r.getheader("Inference-Header-Content-Length") or -1)
        check(r.status == 200 and hl > 0, "perf_analyzer's binary request: %d %s" % (r.status, b[:200]))
        got = struct.unpack("<20f", b[hl:])
        check(all(abs(a - w) < 1e-6 * max(1, abs(w)) for a, w in zip(got, want)), "binary answer equals the JSON one")

    # Triton's raw binary request: the body is the one input's bytes
    r, b = s.request("POST", "/v2/models/mlp/infer", raw, {"Inference-Header-Content-Length": "0"})
    hl = int(r.getheader("Inference-Header-Content-Length") or -1)
    check(r.status == 200 and hl > 0 and json.loads(b[:hl])["outputs"][0]["shape"] == [2, 10],
          "raw binary request: %d %s" % (r.status, b[:200]))
    check(all(abs(a - w) < 1e-6 * max(1, abs(w)) for a, w in zip(struct.unpack("<20f", b[hl:]), want)), "raw answer")
    r, b = s.request("POST", "/v2/models/mlp/infer", raw[:-4], {"Inference-Header-Content-Length": "0"})
    check(r.status == 400 and b"whole items" in b, "a raw body not whole items is 400: %s" % b[:200])

    # compressed bodies: JSON gzipped, binary deflated (the header length counts the inflated body)
    r, b = s.request("POST", "/v2/models/mlp/infer", gzip.compress(infer_json(x).encode()), {"Content-Encoding": "gzip"})
    check(r.status == 200 and json.loads(b)["outputs"][0]["data"] == want, "gzip JSON body: %d %s" % (r.status, b[:200]))
    h = json.dumps({"inputs": [{"name": "INPUT0", "shape": [2, 64], "datatype": "FP32",
                                "parameters": {"binary_data_size": 512}}]}).encode()
    r, b = s.request("POST", "/v2/models/mlp/infer", zlib.compress(h + raw),
                     {"Content-Encoding": "deflate", "Inference-Header-Content-Length": str(len(h))})
    check(r.status == 200 and json.loads(b)["outputs"][0]["data"] == want, "deflate binary body: %d %s" % (r.status, b[:200]))
    r, b = s.request("POST", "/v2/models/mlp/infer", b"\x1f\x8b not gzip", {"Content-Encoding": "gzip"})
    check(r.status == 400 and b"not valid gzip" in b, "a broken gzip body is 400: %d %s" % (r.status, b[:200]))
    r, b = s.request("POST", "/v2/models/mlp/infer", infer_json(x), {"Content-Encoding": "br"})
    check(r.status == 415 and b"not supported" in b, "an unknown coding is 415: %d %s" % (r.status, b[:200]))
    bomb = gzip.compress(b" " * (4 << 20))  # 4 MiB of spaces in a few KiB
    check(len(bomb) < 65536, "the bomb fits the limit compressed")
    r, b = s.request("POST", "/v2/models/mlp/infer", bomb, {"Content-Encoding": "gzip"})
    check(r.status == 413 and b"inflates to more than" in b, "a body inflating past the limit is 413: %d %s" % (r.status, b[:200]))
    r, _ = s.request("GET", "/v2/health/live")
    check(r.status == 200, "alive after the compressed bodies")
    rc, out, err = s.stop()
    check(rc == 0, "SIGTERM exits 0: %d %s" % (rc, err))


def parallel(port, n, body, results):
    def one(i):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        t0 = time.monotonic()
        c.request("POST", "/v2/models/mlp/infer", body)
        r = c.getresponse()
        r.read()
        results[i] = (r.status, time.monotonic() - t0)
        c.close()
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    return ts


def batching():
    # a full batch goes at once; a lone request waits for the delay
    s = Server("--max-batch", "8", "--max-queue-delay", "400ms")
    res = [None] * 8
    t0 = time.monotonic()
    for t in parallel(s.port, 8, infer_json(rows(1)), res):
        t.join()
    took = time.monotonic() - t0
    check(all(r[0] == 200 for r in res), "8 parallel requests answered")
    _, b = s.request("GET", "/metrics")
    text = b.decode()
    m = re.search(r'nv_inference_exec_count\{model="mlp",version="1"\} (\d+)', text)
    execs = int(m.group(1))
    # they arrive within the delay, so they share batches; a full batch does not wait the 400 ms
    check(execs < 8, "8 requests ran in fewer than 8 batches (%d)" % execs)
    if execs == 1:
        check(took < 0.35, "a full batch of 8 went before the 400 ms delay (%.3fs)" % took)
    t0 = time.monotonic()
    r, _ = s.request("POST", "/v2/models/mlp/infer", infer_json(rows(1)))
    lone = time.monotonic() - t0
    check(r.status == 200 and 0.4 <= lone < 1.4, "a lone request waits the max queue delay (%.3fs)" % lone)
    s.stop()
    print("batching: 8 parallel requests in %d batch(es), %.3fs; a lone request %.3fs" % (execs, took, lone))


def counter(text, name):
    m = re.search(name + r'\{model="mlp",version="1"\} (\d+)', text)
    check(m is not None, "%s is written" % name)
    return int(m.group(1)) if m else 0


def compute_parts():
    """Triton's compute is input + infer + output, each timed: with a 50 ms
    batch cost standing in for a device call, four lone requests spend
    200 ms in the forward pass and little copying in and out; with the
    queue, the parts never exceed the request's whole time."""
    s = Server("--max-batch", "4", "--batch-time", "50ms", "--max-queue-delay", "0")
    for _ in range(4):
        r, _ = s.request("POST", "/v2/models/mlp/infer", infer_json(rows(1)))
        check(r.status == 200, "a lone request is answered")
    _, b = s.request("GET", "/metrics")
    text = b.decode()
    names = ["nv_inference_request_duration_us", "nv_inference_queue_duration_us",
             "nv_inference_compute_input_duration_us", "nv_inference_compute_infer_duration_us",
             "nv_inference_compute_output_duration_us"]
    total, queue, cin, cinfer, cout = (counter(text, n) for n in names)
    check(200000 <= cinfer < 300000, "4 x 50 ms in the forward pass, got %d us" % cinfer)
    check(cin < 20000 and cout < 20000, "copying one row in and out takes little: %d us, %d us" % (cin, cout))
    check(queue + cin + cinfer + cout <= total, "queue %d + compute %d/%d/%d us within the requests' %d us"
          % (queue, cin, cinfer, cout, total))
    s.stop()
    print("compute parts: input %d us, infer %d us, output %d us of %d us" % (cin, cinfer, cout, total))


def full_queue():
    s = Server("--max-batch", "1", "--queue-size", "2", "--batch-time", "300ms", "--max-queue-delay", "0")
    res = [None] * 8
    for t in parallel(s.port, 8, infer_json(rows(1)), res):
        t.join()
    codes = sorted(r[0] for r in res)
    check(codes.count(503) >= 1 and codes.count(200) >= 3, "a full queue answers 503 (codes %s)" % codes)
    check(set(codes) <= {200, 503}, "only 200 and 503 (codes %s)" % codes)
    s.stop()


def drain():
    s = Server("--max-batch", "4", "--batch-time", "500ms", "--max-queue-delay", "0")
    res = [None] * 3
    ts = parallel(s.port, 3, infer_json(rows(1)), res)
    time.sleep(0.15)
    s.p.send_signal(signal.SIGTERM)
    for t in ts:
        t.join()
    s.p.wait(timeout=30)
    check(all(r is not None and r[0] == 200 for r in res), "requests in flight at SIGTERM are answered: %s" % res)
    check(s.p.returncode == 0, "drained server exits 0 (%s)" % s.p.returncode)
    try:
        socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
        check(False, "the port is closed after the drain")
    except OSError:
        pass


for t in (protocol, perf_analyzer_sequence, batching, compute_parts, full_queue, drain):
    t()
print("serve conformance: %d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
