"""The control for the rotation-robust polar model: the full-circle recipe of
``distill_mobilefacenet_roi_tanh_polar_rot.py`` in the Cartesian space (same budget, same rotations, the
teacher's target always the upright face), so that the table shows what the polar space buys under rotation.

    facelib pack pool data/pool
    bash scripts/train_shipped.sh 300 cartesian_rot
"""

import math

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_rot",
                        augment={"max_shift": 0.05, "max_scale": 0.1, "max_rotation": math.pi, "flip": True,
                                 "colour": 0.2, "grey": 0.1})
