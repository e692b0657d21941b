"""Counted checks for the Python end-to-end scripts: one line per check,
then "N passed, M failed" and the exit status."""
import sys

passed, failed = 0, 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
        print("ok -", what)
    else:
        failed += 1
        print("FAIL:", what, file=sys.stderr)


def finish():
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
