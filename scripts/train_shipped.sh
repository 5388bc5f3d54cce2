#!/usr/bin/env bash
# Train the shipped MobileFaceNets one after another (each resumes if interrupted).
#   bash scripts/train_shipped.sh [STEPS] [NAME ...]     NAME: roi_tanh_polar, cartesian, roi_tanh,
#                                                         roi_tanh_circular, roi_tanh_polar_rot, cartesian_rot (default: all)
# Needs the pool pack (`facelib pack pool data/pool`); the teacher's embeddings are cached on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-300}"
shift || true
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(roi_tanh_polar cartesian roi_tanh roi_tanh_circular roi_tanh_polar_rot cartesian_rot)
for name in "${names[@]}"; do
  config="configs/distill_mobilefacenet_${name}.py"
  output="runs/mobilefacenet_${name}"
  if [ -f "$output/summary.json" ]; then echo "done already: $output"; continue; fi
  resume=""; [ -f "$output/checkpoint-rank0.pt" ] && resume="--resume"
  facelib train --config "$config" --set total_steps="$steps" $resume
done
