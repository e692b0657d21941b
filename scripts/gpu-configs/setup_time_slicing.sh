#!/usr/bin/env bash
# setup_time_slicing.sh - the GPU shared by time slicing: compute mode Default
# (any number of processes) and, if given, the driver's timeslice.
#
# Usage: setup_time_slicing.sh [--timeslice default|short|medium|long] [--gpu N] [--dry-run]
#   --timeslice LEVEL  how long each process runs before the GPU switches
#                      (nvidia-smi compute-policy --set-timeslice)
#   --dry-run          print every operation, change nothing
# Wraps: cotenant mode timeslice --compute-mode default [...]. The values
# before are saved; cotenant mode restore puts them back. Needs root.

set -euo pipefail
source "$(dirname "$0")/lib.sh"
help_if_asked "$@"
exec "$COTENANT" mode timeslice --compute-mode default "$@"
