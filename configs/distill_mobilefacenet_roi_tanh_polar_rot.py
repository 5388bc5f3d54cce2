"""The rotation-robust MobileFaceNet: the same recipe in the roi_tanh_polar space with full-circle in-plane
rotation (the teacher's target is always the upright face).

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_rot.py
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_rot", full_circle=True)
