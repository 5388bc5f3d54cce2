"""The rotation-robust MobileFaceNet, warm-started: the full-circle recipe of
``distill_mobilefacenet_roi_tanh_polar_rot.py`` (roi_tanh_polar, in-plane rotation of up to 180 degrees either
way, the teacher's target always the upright face) run for 2,000 steps from the shipped upright model
``mobilefacenet_roi_tanh_polar_long`` instead of from a random initialisation. Its total budget is therefore
2,400 + 2,000 steps. Same seed, so the same 30 pool identities stay held out in both stages.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_long.py   # or use the shipped weights
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_rot_long.py
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_rot_long",
                        init_weights="mobilefacenet_roi_tanh_polar_long", total_steps=2000,
                        checkpoint_every=50, verify_every=400, full_circle=True)
