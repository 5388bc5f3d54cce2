"""The control for the rotation-robust polar model: the full-circle recipe of
``distill_mobilefacenet_roi_tanh_polar_rot.py`` in the Cartesian space (same budget, same rotations, the
teacher's target always the upright face), so that the table shows what the polar space buys under rotation.

    facelib pack pool data/pool
    bash scripts/train_shipped.sh 300 cartesian_rot
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_rot", full_circle=True)
