"""The Cartesian default continued a fourteenth time, on the 2-core CPU, with a seventh draw of mixed faces:
``distill_mobilefacenet_cartesian_warm13.py`` from the shipped ``mobilefacenet_cartesian_warm13`` (42,200 steps) for
1,200 more steps (43,400 in all; half the usual continuation, as the circular, polar and rotation-robust chains ran on
this draw), compiled (``compile=True``), cosine from 5e-4, ``mixup_faces=10000`` with ``mixup_draw=6``: 10,000 blends
of two training faces of different identities that no Cartesian run saw (the draw ``mobilefacenet_roi_tanh_warm10``,
``mobilefacenet_roi_tanh_circular_warm10``, ``mobilefacenet_roi_tanh_polar_rot_warm11`` and
``mobilefacenet_roi_tanh_polar_warm10`` saw; the teacher labels the aligned, upright faces, so its cached labels serve
every space; the held-out identities are the same), labelled once by the teacher (~13 min with the pool's own labels
on a fresh machine, cached). Checkpoints every 300 steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm14.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm14",
                        init_weights="mobilefacenet_cartesian_warm13", total_steps=1200, lr=5e-4, compile=True,
                        mixup_faces=10000, mixup_draw=6, checkpoint_every=300, verify_every=300)
