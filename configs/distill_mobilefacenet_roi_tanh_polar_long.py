"""The shipped default: the roi_tanh_polar recipe of ``distill_mobilefacenet_roi_tanh_polar.py`` run 8x longer
(2,400 steps x 64 faces, ~14 epochs of the pool). Same recipe, bigger budget: a separate, clearly named row,
so that the four 300-step space models still compare spaces on equal terms.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_long.py
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_long", total_steps=2400,
                        checkpoint_every=50, verify_every=400)
