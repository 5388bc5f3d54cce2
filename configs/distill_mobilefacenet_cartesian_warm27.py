"""The Cartesian default continued a twenty-seventh time, on the 2-core CPU, with a twentieth draw of mixed faces and
the gentler restart again: ``distill_mobilefacenet_cartesian_warm26.py`` from the shipped
``mobilefacenet_cartesian_warm26`` (72,200 steps) for 2,400 more steps (74,600 in all), cosine from 2.5e-4. Its
parent was the first continuation to restart at 2.5e-4 instead of 5e-4; it dipped less after the restart and gained
more held-out cosine than the 5e-4 draws before it, and this run asks whether that holds on a second draw. In bf16
autocast it runs at ~0.8 s a step on a 2-core CPU with native bf16 (AVX-512 bf16); elsewhere add ``--set amp=none``
(fp32, ~2.5-2.9 s a step). Compiled (``compile=True``), ``mixup_faces=10000`` with ``mixup_draw=19``: 10,000 blends
of two training faces of different identities that no Cartesian run saw (the draw
``mobilefacenet_roi_tanh_polar_warm23`` saw; the teacher labels the aligned, upright faces, so its cached labels serve
every space; the held-out identities are the same), labelled once by the teacher (~5 min on a fast 2-core CPU, as
long again for the pool's own labels on a fresh machine; cached). Checkpoints every 300 steps: an interrupted run
continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm27.py [--set amp=none] [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm27",
                        init_weights="mobilefacenet_cartesian_warm26", total_steps=2400, lr=2.5e-4, compile=True,
                        mixup_faces=10000, mixup_draw=19, checkpoint_every=300, verify_every=300)
