"""Training throughput on this CPU: the whole step (JPEG decode, warp and augmentation, forward, Partial FC
margin loss, backward, SGD), images/s, side by side in one run.

    python benchmarks/train.py --data /path/to/ms1m_pack [--steps 6] [--batch 32] [--threads 2] [--compile]
                               [--models mobilefacenet iresnet18]

Rows: MobileFaceNet and iResNet-18, each fp32 and bf16 autocast + channels_last, each with the
tanh-polar warp augmentation and without any warp (``cartesian``); with ``--compile`` also bf16 +
channels_last under ``torch.compile`` (``TrainConfig.compile``; its compile time, ~2 min a model on two
cores, is in the warm-up step and not in the rate). Per-core figures divide by the threads. Build a
pack with ``facelib pack pool DIR`` (the LFW-disjoint pool of the data mirror).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from facelib.train.config import TrainConfig
from facelib.train.loop import Trainer


def measure(data: str, model: str, space: str, low_precision: bool, steps: int, batch: int, workers: int,
            compiled: bool = False) -> float:
    with tempfile.TemporaryDirectory() as output:
        config = TrainConfig(data=data, output=output, model=model, space=space, batch_size=batch, lr=0.01,
                             total_steps=steps + 1, verify_benchmark="", num_workers=workers,
                             amp="bf16" if low_precision else "none", channels_last=low_precision, log_every=1,
                             compile=compiled)
        trainer = Trainer(config, callbacks=[])  # steps only: no logs, checks, checkpoints or exports
        trainer.run(steps=1)  # warm-up step (first-batch allocation, worker start, compilation)
        start = time.perf_counter()
        trainer.run()
        return steps * batch / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--compile", action="store_true", help="add bf16+cl rows under torch.compile")
    parser.add_argument("--models", nargs="+", default=["mobilefacenet", "iresnet18"])
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"training step on CPU, {args.threads} threads, {args.workers} loader worker(s), batch {args.batch}, "
          f"{args.steps} steps, torch {torch.__version__}")
    print(f"{'model':14s} {'precision':12s} {'space':16s} {'img/s':>7s} {'img/core-s':>11s}")
    variants = [("fp32", False, False), ("bf16+cl", True, False)] + ([("bf16+cl+comp", True, True)]
                                                                     if args.compile else [])
    for model in args.models:
        for label, low, compiled in variants:
            for space in ("roi_tanh_polar", "cartesian"):
                rate = measure(args.data, model, space, low, args.steps, args.batch, args.workers, compiled)
                print(f"{model:14s} {label:12s} {space:16s} {rate:7.2f} {rate / args.threads:11.2f}", flush=True)


if __name__ == "__main__":
    main()
