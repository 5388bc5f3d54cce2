"""The rotation-robust MobileFaceNet: the same recipe in the roi_tanh_polar space with full-circle in-plane
rotation (the teacher's target is always the upright face).

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_rot.py
"""

import math

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_rot",
                        augment={"max_shift": 0.05, "max_scale": 0.1, "max_rotation": math.pi, "flip": True,
                                 "colour": 0.2, "grey": 0.1})
