#!/usr/bin/env bash
# The study's step times: every family and variant benchmarked alone, one after another.
set -euo pipefail
cd "$(dirname "$0")/../.."
for family in dcgan sngan biggan stylegan2 r3gan; do
  for condition in none class; do
    echo "== $family $condition"
    gan-benchmark --config "experiments/backbones/sweep_$family.py" \
      --config.model.condition="$condition" --calls 3 --repeats 3
  done
done
