#!/usr/bin/env python3
"""Slow clients against a libmicrohttpd server of cotenant's: good requests
still get answers.

Usage: slow_clients.py serve BIN_DIR | slow_clients.py prometheus URL_PORT.
`serve` starts cotenant-serve with --max-connections 100 --request-timeout
2s, opens 150 connections that send their headers a byte a second (one
connection in five stuck mid-body instead), and meanwhile sends good
requests; every good request must be answered 200 within its timeout, the
server must cut the slow connections, and its final line must account for
them. `prometheus` runs the same against a running `cotenant monitor
--prometheus PORT` with 40 slow clients and counts scrapes. Prints one line
per check and "N passed, M failed". Bounded: at most ~25 s."""
import json, re, signal, socket, subprocess, sys, threading, time

from checks import check, finish


stop = threading.Event()
slow_cut = [0]


def slow_client(port, head, mid_body):
    """Sends `head` a byte a second; records whether the server cut it."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=3)
    except OSError:
        return
    data = head if not mid_body else head + b"{\"inp"
    sent = 0
    if mid_body:  # headers and the start of the body at once, then nothing more
        try:
            s.sendall(data)
        except OSError:
            pass
        sent = len(data)
    while not stop.is_set():
        try:
            if sent < len(data):
                s.sendall(data[sent:sent + 1])
                sent += 1
            s.settimeout(1.0)
            if s.recv(1) == b"":  # the server closed it
                slow_cut[0] += 1
                break
        except socket.timeout:
            continue
        except OSError:
            slow_cut[0] += 1
            break
    s.close()


def good_request(port, raw, timeout=8):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        m = re.match(rb"HTTP/1\.[01] (\d+)", data)
        return int(m.group(1)) if m else None
    except OSError:
        return None


def run(port, slow_head, nslow, good_raw, ngood, what):
    threads = [threading.Thread(target=slow_client, args=(port, slow_head, i % 5 == 4), daemon=True)
               for i in range(nslow)]
    for t in threads:
        t.start()
        time.sleep(0.005)
    time.sleep(1.0)  # every connection the server has room for is taken
    codes, t0 = [], time.time()
    for _ in range(ngood):
        codes.append(good_request(port, good_raw))
        time.sleep(0.5)
    took = time.time() - t0
    answered = codes.count(200)
    print("%s: %d of %d good requests answered 200 beside %d slow clients (%.1f s); slow connections cut so far: %d"
          % (what, answered, ngood, nslow, took, slow_cut[0]))
    check(answered == ngood, "%s: every good request answered (%d of %d; codes %s)" % (what, answered, ngood, codes))
    stop.set()
    for t in threads:
        t.join(timeout=5)
    return answered


mode = sys.argv[1]
if mode == "serve":
    p = subprocess.Popen([sys.argv[2] + "/cotenant-serve", "--listen", "127.0.0.1:0", "--max-connections", "100",
                          "--request-timeout", "2s", "--threads", "2"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    port = int(re.search(r":(\d+)/v2", p.stdout.readline()).group(1))
    body = json.dumps({"inputs": [{"name": "INPUT0", "shape": [1, 64], "datatype": "FP32", "data": [0.5] * 64}]})
    good = ("POST /v2/models/mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (len(body), body)).encode()
    slow = b"POST /v2/models/mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\nX-Padding: " + b"a" * 400 + b"\r\n\r\n"
    run(port, slow, 150, good, 8, "cotenant-serve")
    check(slow_cut[0] >= 100, "the server cut the slow connections (%d of 150 saw the close)" % slow_cut[0])
    # stuck mid-body, then well-formed requests from clients that half-close after sending
    codes = []
    stuck = socket.create_connection(("127.0.0.1", port))
    stuck.sendall(good[:len(good) - 20])
    def half_closer(out):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(good)
            s.shutdown(socket.SHUT_WR)
            data = s.recv(65536)
            s.close()
            m = re.match(rb"HTTP/1\.[01] (\d+)", data)
            out.append(int(m.group(1)) if m else None)
        except OSError:
            out.append(None)
    hs = [threading.Thread(target=half_closer, args=(codes,)) for _ in range(100)]
    for t in hs:
        t.start()
    for t in hs:
        t.join()
    stuck.close()
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=30)
    last = out.strip().splitlines()[-1]
    print(last)
    m = re.search(r"served (\d+) requests \((\d+) failed\).*refused: (\d+) queue full, (\d+) too large, (\d+) malformed; "
                  r"(\d+) ended unanswered; connections cut: (\d+) too slow, (\d+) to keep room", last)
    check(m is not None, "the server's summary line accounts for unanswered requests and cut connections")
    if m:
        ok, fail_n, unanswered, too_slow, room = (int(m.group(i)) for i in (1, 2, 6, 7, 8))
        answered_half = codes.count(200)
        print("half-closing clients: %d of 100 answered 200; the server counts %d ok, %d failed (%d unanswered)"
              % (answered_half, ok, fail_n, unanswered))
        check(ok == 8 + answered_half, "served = good requests + answered half-closers (%d = 8 + %d)" % (ok, answered_half))
        check(answered_half + unanswered >= 100, "every half-closing request was answered or counted unanswered "
              "(%d + %d)" % (answered_half, unanswered))
        check(too_slow + room >= 100, "the server counted the connections it cut (%d too slow, %d for room)"
              % (too_slow, room))
else:
    port = int(sys.argv[2])
    run(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n", 40,
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 6, "cotenant monitor --prometheus")
finish()
