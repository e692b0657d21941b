#!/usr/bin/env bash
# enable_mps.sh - start a standing MPS control daemon so that CUDA programs
# share the GPU through one MPS server.
#
# Usage: enable_mps.sh [--pipe-dir D] [--log-dir D] [--exclusive] [--gpu N] [--dry-run]
#   --pipe-dir D   the daemon's pipe folder (default /tmp/nvidia-mps); clients
#                  need CUDA_MPS_PIPE_DIRECTORY=D
#   --log-dir D    its log folder (default /tmp/nvidia-log)
#   --exclusive    also set the compute mode Exclusive_Process (saved first)
#   --dry-run      print every operation, change nothing
# Wraps: cotenant mode mps enable. Undo: disable_mps.sh. cotenant run needs
# none of this: its mps mode starts a private daemon.

set -euo pipefail
source "$(dirname "$0")/lib.sh"
help_if_asked "$@"
exec "$COTENANT" mode mps enable "$@"
