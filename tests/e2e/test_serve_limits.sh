# cotenant-serve under hostile bodies: refused before they are parsed, and
# resident memory bounded (serve_limits.py says how).
source "$(dirname "$0")/lib.sh"
python3 "$(cd "$(dirname "$0")" && pwd)/serve_limits.py" "$BIN"
