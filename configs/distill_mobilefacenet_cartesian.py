"""MobileFaceNet (128-d) in the cartesian space, distilled from SFace on the LFW-disjoint pool (shipped model).

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian.py
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian")
