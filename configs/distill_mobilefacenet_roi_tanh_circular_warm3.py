"""The RoI-tanh-circular recipe continued a third time on a lent GPU: ``distill_mobilefacenet_roi_tanh_circular.py``
from the shipped ``mobilefacenet_roi_tanh_circular_warm2`` (12,800 steps) with a fresh cosine schedule, for 8,900
steps (21,700 in all), as many as the GPU call fitted beside one other recipe (``scripts/gpu_train.py``). Same seed,
so the same 30 pool identities stay held out.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_circular_warm3.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_circular", name="mobilefacenet_roi_tanh_circular_warm3",
                        init_weights="mobilefacenet_roi_tanh_circular_warm2", total_steps=8900,
                        checkpoint_every=1112, verify_every=1112)
