"""The Cartesian default continued a seventh time, on the 2-core CPU (no GPU was lent that session), with mixed
faces: ``distill_mobilefacenet_cartesian.py`` from the shipped ``mobilefacenet_cartesian_warm6`` (25,400 steps) for
2,400 steps (27,800 in all), compiled (``compile=True``, ~2 s a step), with ``mixup_faces=10000``: 10,000 blends of
two training faces of different identities, labelled once by the teacher (~10 min, cached), join the ~10,500 pool
faces. The one change from ``mobilefacenet_cartesian_warm6`` (the same 2,400 steps, cosine from 5e-4, same seed and
held-out identities), so the two continuations compare the pool alone with the pool widened by mixed faces.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm7.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm7",
                        init_weights="mobilefacenet_cartesian_warm6", total_steps=2400, lr=5e-4, compile=True,
                        mixup_faces=10000, checkpoint_every=300, verify_every=300)
