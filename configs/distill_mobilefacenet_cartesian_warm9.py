"""The Cartesian default continued a ninth time, on the 2-core CPU, with fresh mixed faces:
``distill_mobilefacenet_cartesian_warm8.py`` from the shipped ``mobilefacenet_cartesian_warm8`` (30,200 steps) for
2,400 more steps (32,600 in all), compiled (``compile=True``), cosine from 5e-4, ``mixup_faces=10000`` with
``mixup_draw=1``: 10,000 new blends of two training faces of different identities (the draw the RoI-tanh, circular
and polar ``_warm5`` models saw, not the one ``mobilefacenet_cartesian_warm8`` saw; the held-out identities are the
same), labelled once by the teacher (cached; the teacher sees the aligned faces, so one labelling serves every
space). Checkpoints every 300 steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm9.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm9",
                        init_weights="mobilefacenet_cartesian_warm8", total_steps=2400, lr=5e-4, compile=True,
                        mixup_faces=10000, mixup_draw=1, checkpoint_every=300, verify_every=300)
