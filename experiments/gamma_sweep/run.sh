#!/usr/bin/env bash
# The study: the 18 trials as one vectorised program, then one after another, each timed
# wall-clock from launch to the last eval.json (start-up, compiling and evaluation included).
# Usage: bash experiments/gamma_sweep/run.sh SWEEPS_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?sweeps directory}
mkdir -p "$out"
for mode in vectorised one_by_one; do
  flag=$([ "$mode" = vectorised ] && echo --vectorise || echo)
  start=$(date +%s.%N)
  gan-sweep --sweep experiments/gamma_sweep/sweep.py --workdir "$out/$mode" $flag \
    > "$out/$mode.log" 2>&1
  end=$(date +%s.%N)
  echo "$mode,$(echo "$end - $start" | bc)" >> "$out/wall_seconds.csv"
done
