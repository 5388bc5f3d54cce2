"""The one distillation recipe in the RoI-tanh-polar space, from random initialisation, for as many steps as one
lent GPU call trains (the four spaces and the rotation-robust model side by side, at one step count, so the
spaces are compared at an equal budget). Only ``total_steps`` differs from ``distill_mobilefacenet_roi_tanh_polar.py``;
on two CPU cores the same recipe takes about a day.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_gpu.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_gpu", total_steps=20000, checkpoint_every=500,
                        verify_every=2500)
