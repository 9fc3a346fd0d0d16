#!/usr/bin/env bash
# The projection study: 100 held-out Fashion-MNIST test images projected into the backbone
# study's seed-0 unconditional StyleGAN2 (w and w+) and DCGAN (z) runs.
#   bash experiments/projection/run.sh sweeps/backbones workdirs/projection
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-sweeps/backbones}
out=${2:-workdirs/projection}
steps=${STEPS:-300}
python experiments/projection/export_targets.py ../shared/datasets/fashion_mnist "$out/targets"
style="$runs/stylegan2/model.condition=none,train.num_steps=383,train.checkpoint_every=383,seed=0"
dcgan="$runs/dcgan/model.condition=none,train.num_steps=1796,train.checkpoint_every=1796,seed=0"
for space in w w+; do
  gan-project --workdir "$style" --input "$out/targets" --out "$out/stylegan2_$space" \
    --space "$space" --steps "$steps" --batch-size 100
done
gan-project --workdir "$dcgan" --input "$out/targets" --out "$out/dcgan_z" --space z \
  --steps "$steps" --batch-size 100
python experiments/projection/summarise.py "$out" experiments/projection
