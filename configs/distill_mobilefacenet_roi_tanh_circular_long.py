"""The RoI-tanh-circular counterpart of the 2,400-step models: the recipe of
``distill_mobilefacenet_roi_tanh_circular.py`` run for 2,400 steps, the budget of
``distill_mobilefacenet_roi_tanh_polar_long.py``, ``distill_mobilefacenet_cartesian_long.py`` and
``distill_mobilefacenet_roi_tanh_long.py``, so that all four spaces compare at the longer budget too.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_circular_long.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_circular", name="mobilefacenet_roi_tanh_circular_long", total_steps=2400,
                        checkpoint_every=50, verify_every=400)
