"""The rotation-robust MobileFaceNet, continued: the full-circle recipe of
``distill_mobilefacenet_roi_tanh_polar_rot_long.py`` (roi_tanh_polar, in-plane rotation of up to 180 degrees
either way, the teacher's target always the upright face) run for 3,000 more steps from the shipped
``mobilefacenet_roi_tanh_polar_rot_long``, with a fresh cosine schedule (AdamW restarts at the recipe's 2e-3).
Its total budget is therefore 2,400 (upright) + 2,000 + 3,000 (rotated) steps. Same seed, so the same 30 pool
identities stay held out in every stage and model selection never sees them trained.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_rot_long.py   # or use the shipped weights
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_rot_warm.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_rot_warm",
                        init_weights="mobilefacenet_roi_tanh_polar_rot_long", total_steps=3000,
                        checkpoint_every=50, verify_every=500, full_circle=True)
