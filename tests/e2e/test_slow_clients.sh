# Slow clients against both of cotenant's servers (slow_clients.py says
# how): cotenant-serve beside 150 byte-a-second clients and clients stuck
# mid-body, and cotenant monitor's Prometheus endpoint beside 40.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
python3 "$HERE/slow_clients.py" serve "$BIN" || fail "cotenant-serve under slow clients"
ok
[ -f "${COTENANT_NVML_DOUBLE:-}" ] || fail "COTENANT_NVML_DOUBLE does not name the test double"
export COTENANT_NVML_LIBRARY=$COTENANT_NVML_DOUBLE
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$COT" monitor --prometheus "$port" --no-tui -q &
pid=$!
for i in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
python3 "$HERE/slow_clients.py" prometheus "$port" || fail "cotenant monitor --prometheus under slow clients"
ok
kill -TERM $pid
wait $pid || fail "monitor with --prometheus: exit $?"
ok "both servers answered every good request beside slow clients"
finish
