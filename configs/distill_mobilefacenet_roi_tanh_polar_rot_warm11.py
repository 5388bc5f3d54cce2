"""The rotation-robust MobileFaceNet continued an eleventh time, on the 2-core CPU, with a seventh draw of mixed
faces: ``distill_mobilefacenet_roi_tanh_polar_rot_warm10.py`` from the shipped
``mobilefacenet_roi_tanh_polar_rot_warm10`` (38,300 steps) for 1,200 more steps (39,500 in all; half the usual
continuation, as for ``mobilefacenet_roi_tanh_circular_warm10``, so that it fits one session on this machine's
slower cores), compiled (``compile=True``), cosine from 5e-4, ``mixup_faces=10000`` with ``mixup_draw=6``: 10,000
blends of two training faces of different identities that no rotation-robust run saw (the draw
``mobilefacenet_roi_tanh_warm10`` and ``mobilefacenet_roi_tanh_circular_warm10`` saw; the held-out identities are
the same), labelled once by the teacher (~13 min with the pool's own labels on a fresh machine, cached; it sees the
aligned, upright faces, so one labelling serves every space), rotated like every other training view while the
teacher's target stays upright. Checkpoints every 300 steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_rot_warm11.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_rot_warm11",
                        init_weights="mobilefacenet_roi_tanh_polar_rot_warm10", total_steps=1200, lr=5e-4,
                        compile=True, mixup_faces=10000, mixup_draw=6, checkpoint_every=300, verify_every=300,
                        full_circle=True)
