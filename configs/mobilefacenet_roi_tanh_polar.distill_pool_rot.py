"""mobilefacenet_roi_tanh_polar.distill_pool_rot: MobileFaceNet (128-d) distilled from SFace in the ``roi_tanh_polar``
space on the LFW-disjoint pool with full-circle rotations (rotation-robust), in one run: the 40,700 steps that the
shipped model's chain of 14 warm-restarted segments trained in all (``weights/lineage.jsonl``; 2 of them on a GPU),
as one cosine schedule from 2e-3 with 10,000 mixed faces. Untested as one run: how close it lands to the shipped
chain has not been measured (GPU work: at ~1,500 img/s on one H200 it takes about 29 min; ``scripts/gpu_train.py``).

    facelib pack pool data/pool
    facelib train --config "configs/mobilefacenet_roi_tanh_polar.distill_pool_rot.py" [--set amp=none] [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar.distill_pool_rot", full_circle=True,
                        total_steps=40700, compile=True, mixup_faces=10000, checkpoint_every=1000,
                        verify_every=1000)
