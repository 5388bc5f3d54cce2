"""The rotation-robust MobileFaceNet continued once more: the full-circle recipe of
``distill_mobilefacenet_roi_tanh_polar_rot_warm.py`` run on a lent GPU from the shipped
``mobilefacenet_roi_tanh_polar_rot_warm`` (7,400 CPU steps), with a fresh cosine schedule, for 7,900 steps
(15,300 in all), as many as the GPU call fitted beside one other recipe. It asks how far more steps lift the
worst angle (90.8 % at 7,400) towards the goal (97.5 %). Same seed, so the same 30 pool identities stay held out.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_rot_warm2.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_rot_warm2",
                        init_weights="mobilefacenet_roi_tanh_polar_rot_warm", total_steps=7900,
                        checkpoint_every=987, verify_every=987, full_circle=True)
