"""The RoI-tanh recipe continued on a lent GPU: ``distill_mobilefacenet_roi_tanh.py`` from the shipped
``mobilefacenet_roi_tanh_warm`` (5,400 CPU steps) with a fresh cosine schedule, for 7,400 steps
(12,800 in all), as many as the GPU call fitted beside one other recipe (``scripts/gpu_train.py``). Same seed,
so the same 30 pool identities stay held out.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_warm2.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh", name="mobilefacenet_roi_tanh_warm2",
                        init_weights="mobilefacenet_roi_tanh_warm",
                        total_steps=7400, checkpoint_every=925, verify_every=925)
