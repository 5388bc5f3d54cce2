"""The RoI-tanh-circular recipe continued a sixth time, on the 2-core CPU, with another fresh draw of mixed faces:
``distill_mobilefacenet_roi_tanh_circular_warm5.py`` from the shipped ``mobilefacenet_roi_tanh_circular_warm5``
(26,500 steps) for 2,400 more steps (28,900 in all), compiled (``compile=True``), cosine from 5e-4,
``mixup_faces=10000`` with ``mixup_draw=2``: 10,000 blends of two training faces of different identities that no
circular run saw (draw 2 first went to ``mobilefacenet_roi_tanh_polar_rot_warm7``; the teacher labels the aligned,
upright faces, so its cached labels serve every space; the held-out identities are the same), labelled once by the
teacher (~13 min with the pool's own labels on a fresh machine, cached). The circular model has the widest fit gap
(0.126): this run measures what a third draw buys it. Checkpoints every 300 steps: an interrupted run continues with
``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_circular_warm6.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_circular", name="mobilefacenet_roi_tanh_circular_warm6",
                        init_weights="mobilefacenet_roi_tanh_circular_warm5", total_steps=2400, lr=5e-4,
                        compile=True, mixup_faces=10000, mixup_draw=2, checkpoint_every=300, verify_every=300)
