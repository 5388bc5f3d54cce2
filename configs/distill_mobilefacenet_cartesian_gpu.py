"""The one distillation recipe in the Cartesian space, from random initialisation, for 3,400 steps: what one
lent GPU call trained with the four spaces and the rotation-robust model side by side (one NVIDIA H200, six runs
at once, 4.5 minutes), so the spaces are compared at an equal budget. Only the step count and the interval of
checkpoints and held-out checks differ from ``distill_mobilefacenet_cartesian.py``; on two CPU cores the same
recipe takes about 2.5 hours (``scripts/gpu_train.py`` ran it on the GPU).

    facelib pack pool data/pool
    facelib train --config configs/distill_mobilefacenet_cartesian_gpu.py [--resume]
"""

from facelib.train.config import distill_recipe

config = distill_recipe("cartesian", name="mobilefacenet_cartesian_gpu",
                        total_steps=3400, checkpoint_every=425, verify_every=425)
