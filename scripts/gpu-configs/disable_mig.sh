#!/usr/bin/env bash
# disable_mig.sh - turn MIG off (every instance destroyed, then MIG disabled),
# or with --restore put back what was there before setup_mig.sh.
#
# Usage: disable_mig.sh [--restore] [--gpu N] [--dry-run] [--state FILE]
#   --restore  the GPU's MIG state as saved before the first change
#   --dry-run  print every NVML operation, in order, and change nothing
# Wraps: cotenant mig disable, or cotenant mig restore. Needs root and an idle GPU.

set -euo pipefail
source "$(dirname "$0")/lib.sh"
help_if_asked "$@"
sub=disable
args=()
for a in "$@"; do
  if [ "$a" = --restore ]; then sub=restore; else args+=("$a"); fi
done
exec "$COTENANT" mig "$sub" "${args[@]}"
