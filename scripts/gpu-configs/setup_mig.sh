#!/usr/bin/env bash
# setup_mig.sh - partition the GPU with MIG: enable it if needed, replace the
# instances there with LAYOUT's, and print each one's CUDA_VISIBLE_DEVICES.
#
# Usage: setup_mig.sh LAYOUT [--gpu N] [--dry-run] [--state FILE]
#   LAYOUT     GPU-instance profiles, e.g. 3g.40gb,2g.20gb,1g.10gb or 2x3g.40gb
#              (cotenant mig profiles lists the GPU's; cotenant mig plan checks one)
#   --dry-run  print every NVML operation, in order, and change nothing
# Wraps: cotenant mig apply LAYOUT. The state before is saved first;
# disable_mig.sh --restore puts it back. Needs root and an idle GPU.

set -euo pipefail
source "$(dirname "$0")/lib.sh"
help_if_asked "$@"
exec "$COTENANT" mig apply "$@"
