"""The Cartesian default continued once more on a lent GPU: ``distill_mobilefacenet_cartesian.py`` from the
shipped ``mobilefacenet_cartesian_warm3`` (7,800 CPU steps + 3,400 GPU steps) with a fresh cosine schedule,
2,900 steps (14,100 in all), alone on the GPU for the rest of that session's device time (2.3 minutes). Same
seed, so the same 30 pool identities stay held out.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm4.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm4",
                        init_weights="mobilefacenet_cartesian_warm3",
                        total_steps=2900, checkpoint_every=362, verify_every=362)
