"""The Cartesian default continued a twenty-fifth time, on the 2-core CPU, with an eighteenth draw of mixed faces:
``distill_mobilefacenet_cartesian_warm24.py`` from the shipped ``mobilefacenet_cartesian_warm24`` (67,400 steps) for
2,400 more steps (69,800 in all; the full continuation, as the polar chain's 2,400-step draws gained 2-11x what its
1,200-step ones did). In bf16 autocast it runs at ~0.8 s a step on a 2-core CPU with native bf16 (AVX-512 bf16);
elsewhere add ``--set amp=none`` (fp32, ~2.5-2.9 s a step). Compiled (``compile=True``), cosine from 5e-4,
``mixup_faces=10000`` with ``mixup_draw=17``: 10,000 blends of two training faces of different identities that no
Cartesian run saw (the draw ``mobilefacenet_roi_tanh_polar_warm21`` saw; the teacher labels the aligned, upright
faces, so its cached labels serve every space; the held-out identities are the same), labelled once by the teacher
(~5 min on a fast 2-core CPU, as long again for the pool's own labels on a fresh machine; cached). Checkpoints every
300 steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_warm25.py [--set amp=none] [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_warm25",
                        init_weights="mobilefacenet_cartesian_warm24", total_steps=2400, lr=5e-4, compile=True,
                        mixup_faces=10000, mixup_draw=17, checkpoint_every=300, verify_every=300)
