"""The Cartesian counterpart of the default: the recipe of ``distill_mobilefacenet_cartesian.py`` run for
2,400 steps, the budget of ``distill_mobilefacenet_roi_tanh_polar_long.py``, so that the two spaces can be
compared at the longer budget too (the 300-step models compare all four).

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_long.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_long", total_steps=2400,
                        checkpoint_every=50, verify_every=400)
