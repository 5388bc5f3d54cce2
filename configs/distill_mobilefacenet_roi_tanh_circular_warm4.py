"""The RoI-tanh-circular recipe continued a fourth time, on the 2-core CPU, with mixed faces:
``distill_mobilefacenet_roi_tanh_circular.py`` from the shipped ``mobilefacenet_roi_tanh_circular_warm3`` (21,700
steps) for 2,400 steps (24,100 in all), compiled (``compile=True``), cosine from 5e-4, with ``mixup_faces=10000``:
10,000 blends of two training faces of different identities, labelled once by the teacher (~10 min, cached; the
same draw as ``mobilefacenet_cartesian_warm7``'s, ``mobilefacenet_roi_tanh_warm4``'s and
``mobilefacenet_roi_tanh_polar_warm4``'s, since the seed and the pool are the same). The same continuation as those
three, in the circular space. Checkpoints every 300 steps: an interrupted run continues with ``--resume``.

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_roi_tanh_circular_warm4.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("roi_tanh_circular", name="mobilefacenet_roi_tanh_circular_warm4",
                        init_weights="mobilefacenet_roi_tanh_circular_warm3", total_steps=2400, lr=5e-4,
                        compile=True, mixup_faces=10000, checkpoint_every=300, verify_every=300)
