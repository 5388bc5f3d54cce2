"""The rotation-robust MobileFaceNet continued a fourth time, on the 2-core CPU, with mixed faces: the
full-circle recipe of ``distill_mobilefacenet_roi_tanh_polar_rot_warm.py`` from the shipped
``mobilefacenet_roi_tanh_polar_rot_warm3`` (21,500 steps) for 2,400 steps (23,900 in all), compiled
(``compile=True``), cosine from 5e-4, with ``mixup_faces=10000``: the same 10,000 teacher-labelled blends of two
training faces as the four upright ``*_warm4``/``warm7`` continuations, rotated like every other training view
(the teacher's target stays upright). Checkpoints every 300 steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_rot_warm4.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_rot_warm4",
                        init_weights="mobilefacenet_roi_tanh_polar_rot_warm3", total_steps=2400, lr=5e-4,
                        compile=True, mixup_faces=10000, checkpoint_every=300, verify_every=300, full_circle=True)
