"""The Cartesian default continued a sixth time, on the 2-core CPU (no GPU was lent that session):
``distill_mobilefacenet_cartesian.py`` from the shipped ``mobilefacenet_cartesian_warm5`` (23,000 steps) for 2,400
steps (25,400 in all; 105 min, ~2.6 s a step), as many as the session's time allowed. A short continuation, so a fresh
cosine schedule from a quarter of the recipe's peak rate (5e-4 instead of 2e-3): a full restart would spend most
of so few steps recovering from the jump. Same seed, so the same 30 pool identities stay held out.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm6.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm6",
                        init_weights="mobilefacenet_cartesian_warm5", total_steps=2400, lr=5e-4,
                        checkpoint_every=300, verify_every=300)
