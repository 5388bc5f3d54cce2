"""The Cartesian default continued on a lent GPU: ``distill_mobilefacenet_cartesian.py`` from the shipped
``mobilefacenet_cartesian_warm2`` (7,800 CPU steps) with a fresh cosine schedule, for as many steps as the
``*_gpu`` runs beside it in the same call. Same seed, so the same 30 pool identities stay held out.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm3.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm3", init_weights="mobilefacenet_cartesian_warm2",
                        total_steps=20000, checkpoint_every=500, verify_every=2500)
