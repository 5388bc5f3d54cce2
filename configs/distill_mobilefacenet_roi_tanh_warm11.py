"""The RoI-tanh recipe continued an eleventh time, on the 2-core CPU, with an eighth draw of mixed faces:
``distill_mobilefacenet_roi_tanh_warm10.py`` from the shipped ``mobilefacenet_roi_tanh_warm10`` (32,400 steps) for
2,400 more steps (34,800 in all), compiled (``compile=True``), cosine from 5e-4, ``mixup_faces=10000`` with
``mixup_draw=7``: 10,000 blends of two training faces of different identities that no run saw before, labelled once
by the teacher (~8 min, ~13 more with the pool's own labels on a fresh machine, cached; the teacher labels the
aligned, upright faces, so its cached labels serve every space; the held-out identities are the same). Checkpoints
every 300 steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_warm11.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh", name="mobilefacenet_roi_tanh_warm11",
                        init_weights="mobilefacenet_roi_tanh_warm10", total_steps=2400, lr=5e-4, compile=True,
                        mixup_faces=10000, mixup_draw=7, checkpoint_every=300, verify_every=300)
