"""The Cartesian default continued a fifth time on a lent GPU: ``distill_mobilefacenet_cartesian.py`` from the shipped
``mobilefacenet_cartesian_warm4`` (14,100 steps) with a fresh cosine schedule, for 8,900 steps (23,000 in all), as
many as the GPU call fitted beside one other recipe (``scripts/gpu_train.py``). Same seed, so the same 30 pool
identities stay held out.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm5.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm5",
                        init_weights="mobilefacenet_cartesian_warm4", total_steps=8900,
                        checkpoint_every=1112, verify_every=1112)
