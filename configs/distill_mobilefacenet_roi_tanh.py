"""MobileFaceNet (128-d) in the roi_tanh space, distilled from SFace on the LFW-disjoint pool (shipped model).

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh.py
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh")
