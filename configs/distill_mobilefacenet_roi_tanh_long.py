"""The highest held-out cosine of the 2,400-step models (``..._roi_tanh_warm.py`` continues it): the recipe of
``distill_mobilefacenet_roi_tanh.py`` run for 2,400 steps, the budget of the other ``*_long`` recipes
(``cartesian``, ``roi_tanh_polar``, ``roi_tanh_circular``), so that all four spaces compare at the longer budget too.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_long.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh", name="mobilefacenet_roi_tanh_long", total_steps=2400,
                        checkpoint_every=50, verify_every=400)
