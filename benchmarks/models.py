"""Backbone speed on this CPU: inference and training images/s at batch 64, fp32 (NCHW and channels_last) and
bf16 + channels_last.

    python benchmarks/models.py [--threads 2] [--batch 64] [--models mobilefacenet iresnet18 ...]

A training step is forward + margin loss (ArcFace over 1,000 classes) + backward + SGD step. GFLOPs
are counted by ``torch.utils.flop_counter`` for one 112x112 image (multiply-adds count as 2).
Each figure is the median of ``--repeats`` timed runs after one warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from facelib.export import example_inputs
from facelib.losses import ArcFaceLoss, CosineClassifier
from facelib.models import create_model, list_models


def gflops(name: str) -> float:
    model = create_model(name).eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(*example_inputs(model, batch=1))
    return counter.get_total_flops() / 1e9


def timed(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(name: str, batch: int, low_precision: bool, channels_last: bool, repeats: int) -> tuple[float, float]:
    """Inference and training images/s, in bf16 autocast if ``low_precision``, in channels-last layout if asked."""
    torch.manual_seed(0)
    model = create_model(name)
    inputs = example_inputs(model, batch=batch)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        inputs = (inputs[0].contiguous(memory_format=torch.channels_last), *inputs[1:])
    classifier = CosineClassifier(512, 1000)
    loss_fn = ArcFaceLoss()
    optimizer = torch.optim.SGD([*model.parameters(), *classifier.parameters()], lr=0.01, momentum=0.9)
    labels = torch.randint(0, 1000, (batch,))
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=low_precision)

    def infer():
        with torch.no_grad(), autocast:
            model(*inputs)

    def train():
        with autocast:
            loss = loss_fn(classifier(model(*inputs)), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    model.eval()
    inference = batch / timed(infer, repeats)
    model.train()
    training = batch / timed(train, repeats)
    return inference, training


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=list_models())
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"backbones on CPU, {args.threads} threads, batch {args.batch}, torch {torch.__version__}; images/s")
    print(f"{'model':14s} {'params M':>9s} {'GFLOPs':>7s} {'infer fp32':>11s} {'infer fp32cl':>13s} "
          f"{'infer bf16cl':>13s} {'train fp32':>11s} {'train fp32cl':>13s} {'train bf16cl':>13s}")
    for name in args.models:
        params = sum(p.numel() for p in create_model(name).parameters()) / 1e6
        fp32 = measure(name, args.batch, False, False, args.repeats)
        fp32cl = measure(name, args.batch, False, True, args.repeats)
        bf16 = measure(name, args.batch, True, True, args.repeats)
        print(f"{name:14s} {params:9.2f} {gflops(name):7.2f} {fp32[0]:11.1f} {fp32cl[0]:13.1f} {bf16[0]:13.1f} "
              f"{fp32[1]:11.1f} {fp32cl[1]:13.1f} {bf16[1]:13.1f}", flush=True)


if __name__ == "__main__":
    main()
