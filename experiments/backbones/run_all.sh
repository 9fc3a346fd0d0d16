#!/usr/bin/env bash
# Every trial of the study, two at a time, unconditional ones first:
#   bash experiments/backbones/run_all.sh sweeps/backbones
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-sweeps/backbones}
for task in 0 1 2 3 4 5; do
  for family in dcgan sngan biggan stylegan2 r3gan; do
    echo "$family $task"
  done
done | xargs -P 2 -n 2 sh -c 'gan-sweep --sweep "experiments/backbones/sweep_$0.py" \
    --workdir "'"$out"'/$0" --task "$1" > /dev/null 2>&1 || echo "failed: $0 $1"'
