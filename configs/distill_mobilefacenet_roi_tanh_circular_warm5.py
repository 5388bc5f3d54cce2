"""The RoI-tanh-circular recipe continued a fifth time, on the 2-core CPU, with fresh mixed faces:
``distill_mobilefacenet_roi_tanh_circular.py`` from the shipped ``mobilefacenet_roi_tanh_circular_warm4`` (24,100
steps) for 2,400 steps (26,500 in all), compiled (``compile=True``), cosine from 5e-4, ``mixup_faces=10000`` with
``mixup_draw=1``: 10,000 new blends of two training faces of different identities (another draw than the one
``mobilefacenet_roi_tanh_circular_warm4`` saw; the held-out identities are the same), labelled once by the teacher
(~10 min, cached). A second pass over the same blends bought the Cartesian model only +0.004 held-out cosine, the
first +0.020: this run measures what fresh blends buy. Checkpoints every 300 steps: an interrupted run continues
with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_circular_warm5.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_circular", name="mobilefacenet_roi_tanh_circular_warm5",
                        init_weights="mobilefacenet_roi_tanh_circular_warm4", total_steps=2400, lr=5e-4,
                        compile=True, mixup_faces=10000, mixup_draw=1, checkpoint_every=300, verify_every=300)
