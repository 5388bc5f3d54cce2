#!/usr/bin/env bash
# A prepared GPU check that fits one 10-minute device run (not run in CI; CI has no GPU).
# It needs a small MS1M pack carried with the working tree (under 60 MiB), e.g. the bundle made here with
#   python scripts/device_bundle.py data/pool .gpu    (the LFW-disjoint pool, 52 MiB, + the teacher cache)
# and prints: CUDA warp vs CPU agreement and warp speed, then a short fp16 training run's images/s.
set -euo pipefail
PACK=${1:-.gpu/pool}
python scripts/gpu_train.py --check-only   # CUDA warps against the CPU in every space, then benchmarks/warp.py
python -m facelib train --config configs/cpu_mobilefacenet.py --set data="$PACK" --set device=cuda --set amp=fp16 \
    --set total_steps=200 --set batch_size=256 --set num_workers=8 --set verify_pairs=None --set output=.gpu/run
