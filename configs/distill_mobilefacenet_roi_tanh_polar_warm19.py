"""The RoI-tanh-polar recipe continued a nineteenth time, on the 2-core CPU, with a sixteenth draw of mixed faces:
``distill_mobilefacenet_roi_tanh_polar_warm18.py`` from the shipped ``mobilefacenet_roi_tanh_polar_warm18`` (44,700
steps) for 1,200 more steps (45,900 in all; half the usual continuation, as for the model it continues: on a CPU
without native bf16 the recipe runs in fp32 with ``--set amp=none`` at ~2.5-2.9 s a step), compiled
(``compile=True``), cosine from 5e-4, ``mixup_faces=10000`` with ``mixup_draw=15``: 10,000 blends of two training
faces of different identities that no run saw before it (the teacher labels the aligned, upright faces, so its cached
labels serve every space; the held-out identities are the same), labelled once by the teacher (~15 min, ~16 more
with the pool's own labels on a fresh machine, cached). Checkpoints every 300 steps: an interrupted run continues
with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_warm19.py [--set amp=none] [--resume]
"""
from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_warm19",
                        init_weights="mobilefacenet_roi_tanh_polar_warm18", total_steps=1200, lr=5e-4,
                        compile=True, mixup_faces=10000, mixup_draw=15, checkpoint_every=300, verify_every=300)
