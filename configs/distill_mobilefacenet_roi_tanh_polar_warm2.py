"""The RoI-tanh-polar recipe continued on a lent GPU: ``distill_mobilefacenet_roi_tanh_polar.py`` from the shipped
``mobilefacenet_roi_tanh_polar_warm`` (5,400 CPU steps) with a fresh cosine schedule, for 7,900 steps
(13,300 in all), as many as the GPU call fitted beside one other recipe (``scripts/gpu_train.py``). Same seed,
so the same 30 pool identities stay held out.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_warm2.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_warm2",
                        init_weights="mobilefacenet_roi_tanh_polar_warm",
                        total_steps=7900, checkpoint_every=987, verify_every=987)
