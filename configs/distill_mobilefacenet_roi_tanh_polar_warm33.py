"""The RoI-tanh-polar recipe continued a 33rd time, on the 2-core CPU, with a 30th draw of mixed faces and half the
restart rate: ``distill_mobilefacenet_roi_tanh_polar_warm32.py`` from the shipped
``mobilefacenet_roi_tanh_polar_warm32`` (77,100 steps) for 2,400 more steps (79,500 in all), cosine from 2.5e-4
instead of the 5e-4 every polar continuation before it used. ``_warm32`` gained only +0.0001 held-out cosine at 5e-4,
while the Cartesian chain's first 2.5e-4 restart (``mobilefacenet_cartesian_warm26``) dipped less and gained more than
its 5e-4 draws: this run asks whether the gentler restart moves the stalled polar chain too. In bf16 autocast it runs
at ~0.8 s a step on a 2-core CPU with native bf16 (AVX-512 bf16); elsewhere add ``--set amp=none`` (fp32, ~2.5-2.9 s
a step). Compiled (``compile=True``), ``mixup_faces=10000`` with ``mixup_draw=29``: 10,000 blends of two training
faces of different identities that no run saw before it (the teacher labels the aligned, upright faces, so its cached
labels serve every space; the held-out identities are the same), labelled once by the teacher (~5 min on a fast
2-core CPU, up to ~15 on a slower one; as long again for the pool's own labels on a fresh machine; cached).
Checkpoints every 300 steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_polar_warm33.py [--set amp=none] [--resume]
"""
from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_polar", name="mobilefacenet_roi_tanh_polar_warm33",
                        init_weights="mobilefacenet_roi_tanh_polar_warm32", total_steps=2400, lr=2.5e-4,
                        compile=True, mixup_faces=10000, mixup_draw=29, checkpoint_every=300, verify_every=300)
