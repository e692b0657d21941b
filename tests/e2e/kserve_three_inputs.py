#!/usr/bin/env python3
"""A KServe v2 server of a model with three inputs (FP32 [-1,4], INT64
[-1,-1], BYTES [-1,1]) under a path prefix, for driving cotenant-loadgen
as it would drive any server: every infer request is checked byte by byte
against the protocol (names, datatypes, shapes, binary sizes, BYTES
framing) and answered with a chunked body. Prints its port, then on SIGTERM
the counts of valid and invalid requests as JSON. Standard library only.
Usage: kserve_three_inputs.py PREFIX"""
import json, signal, struct, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = sys.argv[1]
META = {"name": "m3", "versions": ["1"], "platform": "test",
        "inputs": [{"name": "dense", "datatype": "FP32", "shape": [-1, 4]},
                   {"name": "ids", "datatype": "INT64", "shape": [-1, -1]},
                   {"name": "text", "datatype": "BYTES", "shape": [-1, 1]}],
        "outputs": [{"name": "score", "datatype": "FP32", "shape": [-1, 1]}]}
counts = {"valid": 0, "invalid": 0, "reasons": []}
lock = threading.Lock()


def check(body, header_len):
    """Why the request is wrong, or None; its batch."""
    head = json.loads(body[:header_len] if header_len is not None else body)
    ins = {t["name"]: t for t in head["inputs"]}
    if sorted(ins) != ["dense", "ids", "text"]:
        return "inputs %s" % sorted(ins), 0
    batch = ins["dense"]["shape"][0]
    want = {"dense": ("FP32", [batch, 4]), "ids": ("INT64", [batch, 3]), "text": ("BYTES", [batch, 1])}
    off = header_len
    for t in head["inputs"]:  # binary data in the order of the inputs
        dt, shape = want[t["name"]]
        if t["datatype"] != dt or t["shape"] != shape:
            return "%s: %s %s" % (t["name"], t["datatype"], t["shape"]), batch
        size = t.get("parameters", {}).get("binary_data_size")
        if size is None:
            return "%s: not binary" % t["name"], batch
        data = body[off:off + size]
        off += size
        n = batch * (4 if dt == "FP32" else 3 if dt == "INT64" else 1)
        if dt == "FP32" and (size != 4 * n or any(not -1 <= v < 1 for v in struct.unpack("<%df" % n, data))):
            return "dense: bad data", batch
        if dt == "INT64" and (size != 8 * n or any(not 0 <= v < 100 for v in struct.unpack("<%dq" % n, data))):
            return "ids: bad data", batch
        if dt == "BYTES":
            k = 0
            for _ in range(n):
                (ln,) = struct.unpack("<I", data[k:k + 4])
                if not data[k + 4:k + 4 + ln].isdigit():
                    return "text: element not a number string", batch
                k += 4 + ln
            if k != size:
                return "text: framing", batch
    if off != len(body):
        return "%d bytes left over" % (len(body) - off), batch
    if [o["name"] for o in head.get("outputs", [])] != ["score"]:
        return "outputs %s" % head.get("outputs"), batch
    return None, batch


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body, chunked=False):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if chunked:  # in two chunks, as a streaming server would
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = len(body) // 2
            for part in (body[:half], body[half:]):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_GET(self):
        if self.path == PREFIX + "/v2/health/ready":
            return self.send(200, b"")
        if self.path == PREFIX + "/v2/models/m3":
            return self.send(200, json.dumps(META).encode())
        self.send(404, b'{"error":"not found"}')

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path != PREFIX + "/v2/models/m3/infer":
            return self.send(404, b'{"error":"not found"}')
        hl = self.headers.get("Inference-Header-Content-Length")
        try:
            why, batch = check(body, int(hl) if hl is not None else None)
        except Exception as e:  # anything malformed
            why, batch = repr(e), 0
        with lock:
            counts["valid" if why is None else "invalid"] += 1
            if why and len(counts["reasons"]) < 5:
                counts["reasons"].append(why)
        if why:
            return self.send(400, json.dumps({"error": why}).encode())
        out = {"model_name": "m3", "outputs": [{"name": "score", "datatype": "FP32", "shape": [batch, 1], "data": [0.5] * batch}]}
        self.send(200, json.dumps(out).encode(), chunked=True)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True


def stop(*_):
    threading.Thread(target=server.shutdown).start()


signal.signal(signal.SIGTERM, stop)
print(server.server_address[1], flush=True)
server.serve_forever()
print(json.dumps(counts), flush=True)
