#!/usr/bin/env bash
# Vectorised replicas against the same trials one after another: gan-benchmark times each
# vectorised config and its first replica alone, side by side (vectorised_speedup).
set -euo pipefail
cd "$(dirname "$0")/.."
gamma="loss.r1_weight=0.01,0.1,1,10"
echo "== ring, G and D 3x256, batch 512: 4 gammas x 2 seeds"
gan-benchmark --config configs/mog.py --config.train.vectorise="$gamma" \
  --config.train.num_seeds=2 --calls 5 --repeats 3
echo "== small MLP 3x32, batch 16: 4 gammas x 2 seeds"
gan-benchmark --config configs/mog.py --config.train.vectorise="$gamma" \
  --config.train.num_seeds=2 --config.model.generator.hidden_dim=32 \
  --config.model.discriminator.hidden_dim=32 --config.train.batch_size=16 --calls 5 --repeats 3
echo "== DCGAN on Fashion-MNIST, rpgan + R1 + R2, batch 64: 3 gammas x 2 seeds"
gan-benchmark --config experiments/gamma_sweep/sweep.py \
  --config.train.vectorise="loss.r1_weight+loss.r2_weight=0.01,0.1,1 seed=0,1" \
  --config.train.steps_per_call=10 --calls 2 --repeats 3
