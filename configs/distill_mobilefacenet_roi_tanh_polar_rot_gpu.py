"""The rotation-robust recipe (``distill_mobilefacenet_roi_tanh_polar_rot.py``: full-circle in-plane rotation,
the teacher's target always the upright face) from random initialisation, for 3,400 steps: trained in one lent
GPU call side by side with the four spaces' ``*_gpu`` runs at the same step count.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_rot_gpu.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_rot_gpu", full_circle=True,
                        total_steps=3400, checkpoint_every=425, verify_every=425)
