"""The rotation-robust MobileFaceNet continued a fifth time, on the 2-core CPU, with the same mixed faces:
``distill_mobilefacenet_roi_tanh_polar_rot_warm4.py`` from the shipped ``mobilefacenet_roi_tanh_polar_rot_warm4``
(23,900 steps) for 2,400 more steps (26,300 in all), compiled (``compile=True``), cosine from 5e-4,
``mixup_faces=10000`` (the same 10,000 teacher-labelled blends, rotated like every other training view; the
teacher's target stays upright). Checkpoints every 300 steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_rot_warm5.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_rot_warm5",
                        init_weights="mobilefacenet_roi_tanh_polar_rot_warm4", total_steps=2400, lr=5e-4,
                        compile=True, mixup_faces=10000, checkpoint_every=300, verify_every=300, full_circle=True)
