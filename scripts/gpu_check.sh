#!/usr/bin/env bash
# A prepared GPU check that fits one 10-minute device run (not run in CI; CI has no GPU).
# It needs a small MS1M pack carried with the working tree (under 60 MiB), e.g. made here with
#   facelib pack pool .gpu/pool        (the LFW-disjoint pool: ~60 MiB at JPEG quality 95)
# and prints: CUDA warp vs CPU agreement and warp speed, then a short fp16 training run's images/s.
set -euo pipefail
PACK=${1:-.gpu/pool}
python - <<'PY'
import torch
from facelib.warp import functional as W
assert torch.cuda.is_available(), "no CUDA device"
g = torch.Generator().manual_seed(0)
images = torch.rand(256, 3, 112, 112, generator=g)
rois = torch.tensor([[20.0, 20.0, 92.0, 92.0]]).repeat(256, 1)
angles = torch.rand(256, generator=g) * 6 - 3
cpu = W.warp(images, rois, 112, "roi_tanh_polar", angles, keep_aspect_ratio=True)
gpu = W.warp(images.cuda(), rois.cuda(), 112, "roi_tanh_polar", angles.cuda(), keep_aspect_ratio=True)
print("max |cuda - cpu|:", (gpu.cpu() - cpu).abs().max().item())
PY
python benchmarks/warp.py --device cuda --batches 256 1024
python -m facelib train --config configs/cpu_mobilefacenet.py --set data="$PACK" --set device=cuda --set amp=fp16 \
    --set total_steps=200 --set batch_size=256 --set num_workers=8 --set verify_pairs=None --set output=.gpu/run
