#!/usr/bin/env bash
# disable_mps.sh - stop the MPS control daemon enable_mps.sh started, and put
# back the compute mode if --exclusive changed it.
#
# Usage: disable_mps.sh [--pipe-dir D] [--gpu N] [--dry-run]
#   --pipe-dir D   the daemon's pipe folder (default /tmp/nvidia-mps)
#   --dry-run      print every operation, change nothing
# Wraps: cotenant mode mps disable.

set -euo pipefail
source "$(dirname "$0")/lib.sh"
help_if_asked "$@"
exec "$COTENANT" mode mps disable "$@"
