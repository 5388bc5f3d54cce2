"""The rotation-robust MobileFaceNet continued a sixth time, on the 2-core CPU, with fresh mixed faces:
``distill_mobilefacenet_roi_tanh_polar_rot_warm5.py`` from the shipped ``mobilefacenet_roi_tanh_polar_rot_warm5``
(26,300 steps) for 2,400 more steps (28,700 in all), compiled (``compile=True``), cosine from 5e-4,
``mixup_faces=10000`` with ``mixup_draw=1``: 10,000 new blends of two training faces of different identities (the
draw the circular, RoI-tanh and polar ``_warm5`` models saw, not the one ``_rot_warm4`` and ``_rot_warm5`` saw; the
held-out identities are the same), rotated like every other training view while the teacher's target stays upright.
Checkpoints every 300 steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_rot_warm6.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_rot_warm6",
                        init_weights="mobilefacenet_roi_tanh_polar_rot_warm5", total_steps=2400, lr=5e-4,
                        compile=True, mixup_faces=10000, mixup_draw=1, checkpoint_every=300, verify_every=300,
                        full_circle=True)
