"""The Cartesian default continued on a lent GPU: ``distill_mobilefacenet_cartesian.py`` from the shipped
``mobilefacenet_cartesian_warm2`` (7,800 CPU steps) with a fresh cosine schedule, for 3,400 steps (11,200 in
all), beside the ``*_gpu`` runs in the same GPU call. Same seed, so the same 30 pool identities stay held out.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm3.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm3",
                        init_weights="mobilefacenet_cartesian_warm2",
                        total_steps=3400, checkpoint_every=425, verify_every=425)
