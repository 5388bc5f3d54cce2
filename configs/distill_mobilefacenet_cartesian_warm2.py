"""The Cartesian default continued once more: ``distill_mobilefacenet_cartesian.py`` run for 2,400 more steps
from the shipped model ``mobilefacenet_cartesian_warm`` (itself 2,400 + 3,000 steps), with a fresh cosine
schedule (AdamW restarts at the recipe's 2e-3), 7,800 steps in all. It asks whether the default is still
step-bound: its held-out cosine (0.542 at 5,400 steps) and fit gap (0.139) are measured the same way. Same seed,
so the same 30 pool identities stay held out in every stage and model selection never sees them trained.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm.py   # or use the shipped weights
    facelib train --config configs/distill_mobilefacenet_cartesian_warm2.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm2",
                        init_weights="mobilefacenet_cartesian_warm",
                        total_steps=2400, checkpoint_every=50, verify_every=400)
