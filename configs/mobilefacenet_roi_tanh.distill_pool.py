"""mobilefacenet_roi_tanh.distill_pool: MobileFaceNet (128-d) distilled from SFace in the ``roi_tanh`` space on the
LFW-disjoint pool, in one run: the 36,000 steps that the shipped model's chain of 13 warm-restarted segments trained
in all (``weights/lineage.jsonl``; 1 of them on a GPU), as one cosine schedule from 2e-3 with 10,000 mixed faces.
Untested as one run: how close it lands to the shipped chain has not been measured (GPU work: at ~1,500 img/s on one
H200 it takes about 26 min; ``scripts/gpu_train.py``).

    facelib pack pool data/pool
    facelib train --config "configs/mobilefacenet_roi_tanh.distill_pool.py" [--set amp=none] [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh", name="mobilefacenet_roi_tanh.distill_pool",
                        total_steps=36000, compile=True, mixup_faces=10000, checkpoint_every=1000,
                        verify_every=1000)
