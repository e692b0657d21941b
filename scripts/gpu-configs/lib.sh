# Shared by the gpu-configs scripts: finds cotenant and answers --help with
# the calling script's header comment.
COTENANT=${COTENANT:-}
if [ -z "$COTENANT" ]; then
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  if [ -x "$here/../../build/bin/cotenant" ]; then COTENANT=$here/../../build/bin/cotenant
  elif command -v cotenant >/dev/null; then COTENANT=$(command -v cotenant)
  else
    echo "$(basename "$0"): cotenant not found: build it (see README.md), put it on PATH, or set COTENANT=/path/to/cotenant" >&2
    exit 2
  fi
fi
help_if_asked() {
  for a in "$@"; do
    if [ "$a" = --help ] || [ "$a" = -h ]; then
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
      exit 0
    fi
  done
}
