"""The RoI-tanh-polar recipe continued an eleventh time, on the 2-core CPU, with an eighth draw of mixed faces:
``distill_mobilefacenet_roi_tanh_polar_warm10.py`` from the shipped ``mobilefacenet_roi_tanh_polar_warm10`` (35,100
steps) for 1,200 more steps (36,300 in all; half the usual continuation, as for the model it continues: on a CPU
without native bf16 the recipe runs in fp32 with ``--set amp=none`` at ~2.5 s a step), compiled (``compile=True``),
cosine from 5e-4, ``mixup_faces=10000`` with ``mixup_draw=7``: 10,000 blends of two training faces of different
identities that no polar run saw (the draw ``mobilefacenet_roi_tanh_warm11``,
``mobilefacenet_roi_tanh_polar_rot_warm12`` and ``mobilefacenet_roi_tanh_circular_warm11`` saw; the teacher labels
the aligned, upright faces, so its cached labels serve every space; the held-out identities are the same), labelled
once by the teacher (~16 min with the pool's own labels on a fresh machine, cached). Checkpoints every 300 steps: an
interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_warm11.py [--set amp=none] [--resume]
"""
from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_warm11",
                        init_weights="mobilefacenet_roi_tanh_polar_warm10", total_steps=1200, lr=5e-4,
                        compile=True, mixup_faces=10000, mixup_draw=7, checkpoint_every=300, verify_every=300)
