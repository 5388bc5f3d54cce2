"""The rotation-robust MobileFaceNet continued a third time on a lent GPU: the full-circle recipe of
``distill_mobilefacenet_roi_tanh_polar_rot_warm.py`` from the shipped ``mobilefacenet_roi_tanh_polar_rot_warm2``
(15,300 steps) with a fresh cosine schedule, for 6,200 steps (21,500 in all), as many as the GPU call fitted beside
one other recipe (``scripts/gpu_train.py``). Same seed, so the same 30 pool identities stay held out.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_rot_warm3.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_rot_warm3",
                        init_weights="mobilefacenet_roi_tanh_polar_rot_warm2", total_steps=6200,
                        checkpoint_every=775, verify_every=775, full_circle=True)
