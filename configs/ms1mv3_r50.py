"""The ArcFace recipe at scale: iResNet-50 on MS1MV3 (faces_emore layout), 8 GPUs with torchrun.

    torchrun --nproc_per_node 8 -m facelib train --config configs/ms1mv3_r50.py --set data=/path/to/ms1m-retinaface-t1
"""

from facelib.train.config import TrainConfig

config = TrainConfig(
    data="/data/ms1m-retinaface-t1",
    output="runs/ms1mv3_r50",
    model="iresnet50",
    space="roi_tanh_polar",
    loss="arcface",
    loss_args={"s": 64.0, "m": 0.5},
    sample_rate=1.0,
    batch_size=128,  # per GPU: 1024 in all
    lr=0.4,
    warmup_steps=2000,
    total_steps=5686 * 20,  # 20 epochs of 5.18M images
    amp="fp16",
    checkpoint_every=2000,
    verify_every=2000,
    verify_pairs=None,  # all 6,000 LFW pairs (at every check and at the end)
    num_workers=4,
)
