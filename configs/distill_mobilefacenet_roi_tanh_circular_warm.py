"""The RoI-tanh-circular recipe continued: ``distill_mobilefacenet_roi_tanh_circular.py`` run for 3,000 more
steps from the shipped model ``mobilefacenet_roi_tanh_circular_long`` (itself 2,400 steps from a random
initialisation), with a fresh cosine schedule (AdamW restarts at the recipe's 2e-3). Its total budget is
therefore 2,400 + 3,000 steps, the same as ``mobilefacenet_roi_tanh_warm``, so the four spaces compare at equal
compute. Same seed, so the same 30 pool identities stay held out in both stages and model selection never sees
them trained.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_circular_long.py   # or use the shipped weights
    facelib train --config configs/distill_mobilefacenet_roi_tanh_circular_warm.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_circular", name="mobilefacenet_roi_tanh_circular_warm",
                        init_weights="mobilefacenet_roi_tanh_circular_long",
                        total_steps=3000, checkpoint_every=50, verify_every=500)
