#!/usr/bin/env bash
# Train the shipped MobileFaceNets one after another (each resumes if interrupted), then stop.
#   bash scripts/train_shipped.sh [STEPS]
# Needs the pool pack (`facelib pack pool data/pool`); the teacher's embeddings are cached on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-500}"
for name in roi_tanh_polar cartesian roi_tanh roi_tanh_circular roi_tanh_polar_rot; do
  config="configs/distill_mobilefacenet_${name}.py"
  output="runs/mobilefacenet_${name}"
  if [ -f "$output/summary.json" ]; then echo "done already: $output"; continue; fi
  resume=""; [ -f "$output/checkpoint-rank0.pt" ] && resume="--resume"
  facelib train --config "$config" --set total_steps="$steps" $resume
done
