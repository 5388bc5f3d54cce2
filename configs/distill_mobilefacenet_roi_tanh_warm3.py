"""The RoI-tanh recipe continued a third time, on the 2-core CPU (no GPU was lent that session):
``distill_mobilefacenet_roi_tanh.py`` from the shipped ``mobilefacenet_roi_tanh_warm2`` (12,800 steps) for 2,800
steps (15,600 in all), as many as the session's time allowed, compiled (``compile=True``: 95 min, ~2.0 s a
step against ~2.6 uncompiled). A short continuation, so a fresh cosine schedule from a quarter of the recipe's
peak rate (5e-4 instead of 2e-3), as for ``mobilefacenet_cartesian_warm6``. Same seed, so the same 30 pool
identities stay held out.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_warm3.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh", name="mobilefacenet_roi_tanh_warm3",
                        init_weights="mobilefacenet_roi_tanh_warm2", total_steps=2800, lr=5e-4, compile=True,
                        checkpoint_every=350, verify_every=350)
