"""The Cartesian default continued a twelfth time, on the 2-core CPU, with a fifth draw of mixed faces:
``distill_mobilefacenet_cartesian_warm11.py`` from the shipped ``mobilefacenet_cartesian_warm11`` (37,400 steps) for
2,400 more steps (39,800 in all), compiled (``compile=True``), cosine from 5e-4, ``mixup_faces=10000`` with
``mixup_draw=4``: 10,000 blends of two training faces of different identities that no Cartesian run saw (the draw the
RoI-tanh, circular and polar ``_warm8`` models and ``mobilefacenet_roi_tanh_polar_rot_warm9`` saw; the teacher labels
the aligned, upright faces, so its cached labels serve every space; the held-out identities are the same), labelled
once by the teacher (~13 min with the pool's own labels on a fresh machine, cached). Checkpoints every 300 steps: an
interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm12.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm12",
                        init_weights="mobilefacenet_cartesian_warm11", total_steps=2400, lr=5e-4, compile=True,
                        mixup_faces=10000, mixup_draw=4, checkpoint_every=300, verify_every=300)
