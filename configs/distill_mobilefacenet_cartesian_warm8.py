"""The Cartesian default continued an eighth time, on the 2-core CPU, with the same mixed faces:
``distill_mobilefacenet_cartesian_warm7.py`` from the shipped ``mobilefacenet_cartesian_warm7`` (27,800 steps) for
2,400 more steps (30,200 in all), compiled (``compile=True``), cosine from 5e-4, ``mixup_faces=10000`` (the same
10,000 teacher-labelled blends, cached). Nothing else changes, so the two continuations measure what 2,400 more
steps buy. Checkpoints every 300 steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm8.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm8",
                        init_weights="mobilefacenet_cartesian_warm7", total_steps=2400, lr=5e-4, compile=True,
                        mixup_faces=10000, checkpoint_every=300, verify_every=300)
