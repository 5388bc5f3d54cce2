"""The RoI-tanh-polar recipe continued an eighth time, on the 2-core CPU, with a fifth draw of mixed faces:
``distill_mobilefacenet_roi_tanh_polar_warm7.py`` from the shipped ``mobilefacenet_roi_tanh_polar_warm7`` (29,100
steps) for 2,400 more steps (31,500 in all), compiled (``compile=True``), cosine from 5e-4, ``mixup_faces=10000`` with
``mixup_draw=4``: 10,000 blends of two training faces of different identities that no run saw before, labelled once
by the teacher (~13 min with the pool's own labels on a fresh machine, cached; the teacher labels the aligned,
upright faces, so its cached labels serve every space; the held-out identities are the same). Checkpoints every 300
steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_warm8.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_warm8",
                        init_weights="mobilefacenet_roi_tanh_polar_warm7", total_steps=2400, lr=5e-4, compile=True,
                        mixup_faces=10000, mixup_draw=4, checkpoint_every=300, verify_every=300)
