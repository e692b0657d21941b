# The conventions a user of any Unix tool expects: --version on every
# program, `cmake --install` putting cotenant, its workloads, their man
# pages and bash completion where they belong, the man pages naming each
# program and rendering, and the completion offering commands and each
# command's options.
source "$(dirname "$0")/lib.sh"
for p in "$BIN"/cotenant "$BIN"/cotenant-*; do
  name=$(basename "$p")
  [ "$name" = cotenant-nvml-cost ] && continue # a measuring aid, not installed
  "$p" --version >"$WORK/v" 2>&1 || fail "$name --version exits $?"
  grep -Eq "^$name [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9a-f]+" "$WORK/v" || fail "$name --version: $(cat "$WORK/v")"
done
ok "every program answers --version"
command -v help2man >/dev/null || { echo "SKIPPED: help2man is not installed (scripts/install_deps.sh installs it)" >&2; exit 77; }
build=$(dirname "$BIN")
cmake --install "$build" --prefix "$WORK/prefix" >"$WORK/install.log" 2>&1 || fail "cmake --install: $(tail -5 "$WORK/install.log")"
for p in "$BIN"/cotenant "$BIN"/cotenant-*; do
  name=$(basename "$p")
  [ "$name" = cotenant-nvml-cost ] && continue
  [ -x "$WORK/prefix/bin/$name" ] || fail "$name was not installed"
  page=$WORK/prefix/share/man/man1/$name.1
  [ -s "$page" ] || fail "no man page for $name"
  grep -q '^\.SH NAME' "$page" && grep -q "^$name \\\\- " "$page" && grep -q '^\.SH DESCRIPTION' "$page" \
    || fail "$name's man page: $(head -20 "$page")"
  # it renders without a warning
  groff -man -Tutf8 -ww "$page" >/dev/null 2>"$WORK/groff" && [ ! -s "$WORK/groff" ] \
    || fail "$name's man page does not render cleanly: $(head -3 "$WORK/groff")"
done
ok "cotenant and its workloads installed, each with a man page that renders"
"$WORK/prefix/bin/cotenant-cpu-burn" --loop compute --duration 0.2 >/dev/null 2>&1 || fail "an installed workload does not run"
comp=$WORK/prefix/share/bash-completion/completions/cotenant
[ -s "$comp" ] || fail "no bash completion installed"
# complete as bash would, with the installed cotenant on PATH
words() { PATH=$WORK/prefix/bin:$PATH bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cotenant; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"; }
[ "$(words cotenant r | sort | tr '\n' ' ')" = "report run " ] || fail "commands: $(words cotenant r)"; ok
words cotenant run --exe | grep -qx -- "--executor" || fail "run's options: $(words cotenant run --)"; ok
[ "$(words cotenant run --executor c)" = compose ] || fail "--executor values: $(words cotenant run --executor c)"; ok
[ "$(words cotenant mig ap)" = apply ] || fail "mig subcommands: $(words cotenant mig ap)"; ok
finish
