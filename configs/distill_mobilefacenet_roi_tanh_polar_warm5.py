"""The RoI-tanh-polar recipe continued a fifth time, on the 2-core CPU, with fresh mixed faces:
``distill_mobilefacenet_roi_tanh_polar.py`` from the shipped ``mobilefacenet_roi_tanh_polar_warm4`` (21,900 steps)
for 2,400 steps (24,300 in all), compiled (``compile=True``), cosine from 5e-4, ``mixup_faces=10000`` with
``mixup_draw=1``: 10,000 new blends of two training faces of different identities (the draw
``mobilefacenet_roi_tanh_circular_warm5`` and ``mobilefacenet_roi_tanh_warm5`` saw, not the one
``mobilefacenet_roi_tanh_polar_warm4`` saw; the held-out identities are the same), labelled once by the teacher
(~10 min, cached; the teacher sees the aligned faces, so one labelling serves every space). Checkpoints every 300
steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_warm5.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_warm5",
                        init_weights="mobilefacenet_roi_tanh_polar_warm4", total_steps=2400, lr=5e-4, compile=True,
                        mixup_faces=10000, mixup_draw=1, checkpoint_every=300, verify_every=300)
