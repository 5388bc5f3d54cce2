"""The RoI-tanh-polar recipe continued a 32nd time, on the 2-core CPU, with a 29th draw of mixed faces:
``distill_mobilefacenet_roi_tanh_polar_warm31.py`` from the shipped ``mobilefacenet_roi_tanh_polar_warm31`` (74,700
steps) for 2,400 more steps (77,100 in all): the usual continuation, as for ``_warm20`` to ``_warm31``, whose 2,400
steps gained 2-11x what any 1,200-step draw before them did (the learning-rate restart's dip is paid once). In bf16
autocast it runs at ~0.8 s a step on a 2-core CPU with native bf16 (AVX-512 bf16); elsewhere add ``--set amp=none``
(fp32, ~2.5-2.9 s a step). Compiled (``compile=True``), cosine from 5e-4, ``mixup_faces=10000`` with
``mixup_draw=28``: 10,000 blends of two training faces of different identities that no run saw before it (the teacher
labels the aligned, upright faces, so its cached labels serve every space; the held-out identities are the same),
labelled once by the teacher (~5 min on a fast 2-core CPU, up to ~15 on a slower one; as long again for the pool's own
labels on a fresh machine; cached). Checkpoints every 300 steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_warm32.py [--set amp=none] [--resume]
"""
from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_warm32",
                        init_weights="mobilefacenet_roi_tanh_polar_warm31", total_steps=2400, lr=5e-4,
                        compile=True, mixup_faces=10000, mixup_draw=28, checkpoint_every=300, verify_every=300)
