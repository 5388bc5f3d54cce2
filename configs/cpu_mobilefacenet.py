"""A student's run on a laptop CPU: MobileFaceNet in tanh-polar space on the LFW-disjoint pool.

    facelib pack pool data/pool            # CelebA-299 + CFP (without LFW people) + ORL, aligned, MS1M layout
    facelib train --config configs/cpu_mobilefacenet.py
"""

from facelib.train.config import TrainConfig

config = TrainConfig(
    data="data/pool",
    output="runs/cpu_mobilefacenet",
    model="mobilefacenet",
    space="roi_tanh_polar",
    loss="arcface",
    loss_args={"s": 32.0, "m": 0.3},  # a gentler margin for a few hundred identities
    batch_size=64,
    lr=0.05,
    warmup_steps=50,
    total_steps=3000,
    amp="none",  # bf16 gives no gain on CPUs without AMX
    checkpoint_every=200,
    verify_every=500,
    verify_pairs=600,
    # Measured on 2 cores (MobileFaceNet, batch 64): 32.5 img/s with no loader worker, 17.4 with 1 or 2,
    # which compete with the model for the same cores. Raise it on machines with cores to spare.
    num_workers=0,
)
