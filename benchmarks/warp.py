"""Speed of facelib.warp, measured side by side in one run.

    python benchmarks/warp.py [--threads 2] [--repeats 15] [--device cpu|cuda]

Batches of 1, 32 and 256 RGB 112x112 images are warped into 112x112 ``roi_tanh_polar``
(``keep_aspect_ratio=True``, a different angle per sample). Printed per batch size, as medians of
interleaved repeats:

* (a) facelib batched vs the same formulas one sample at a time in a Python loop, two ways:
  ``loop-call`` calls ``facelib.warp.warp`` per sample; ``loop-grid`` builds each sample's grid in a
  loop (the original implementation's structure) and samples once.
* (b) facelib vs bare ``torch.nn.functional.grid_sample`` with a precomputed grid of the same size
  (the floor: nothing can warp faster than sampling alone).
* the same for ``restore`` (112x112 back to 112x112).

Targets at B=256: (a) >= 7x, (b) >= 0.8x. Ratios, not times, are what to compare across machines.

The table is printed twice: with the default glibc allocator, then with glibc told to keep freed
memory (``mallopt``: no ``munmap`` of blocks under 256 MiB). At B=256 every call allocates a
38 MiB output (and facelib a 25 MiB grid); with the default settings such blocks are mapped fresh
each time and the first touch of their ~15,000 pages costs about as much as the sampling itself,
more or less of it depending on the heap's history. The second table is the steady state of a long
running process (a training loop) and is the fairer comparison of the code; both are reported.
"""

from __future__ import annotations

import argparse
import ctypes
import math
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from facelib.warp import functional as W

SIZE = 112


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def measure(functions: dict[str, Callable[[], object]], repeats: int, device: str) -> dict[str, float]:
    """Median seconds of each function, run interleaved so that drifts in machine load hit all alike."""
    for fn in functions.values():  # warm-up
        fn()
    times: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def cases(batch: int, device: str):
    generator = torch.Generator().manual_seed(batch)
    images = torch.rand(batch, 3, SIZE, SIZE, generator=generator).to(device)
    centre = 56 + (torch.rand(batch, 2, generator=generator) - 0.5) * 10
    half = 30 + torch.rand(batch, 2, generator=generator) * 10
    rois = torch.cat((centre - half, centre + half), dim=1).to(device)
    angles = ((torch.rand(batch, generator=generator) * 2 - 1) * math.pi).to(device)
    kwargs = {"keep_aspect_ratio": True}
    warp_grid = W.warp_grid(rois, SIZE, SIZE, "roi_tanh_polar", angles, **kwargs).contiguous()
    warped = W.warp(images, rois, SIZE, "roi_tanh_polar", angles, **kwargs)
    restore_grid = W.restore_grid(rois, SIZE, SIZE, "roi_tanh_polar", angles, **kwargs).contiguous()
    wrapped = torch.cat((warped, warped[..., :1, :]), dim=-2)

    def loop_call():
        return torch.cat([W.warp(images[i:i + 1], rois[i:i + 1], SIZE, "roi_tanh_polar", angles[i:i + 1], **kwargs)
                          for i in range(batch)])

    def loop_grid():
        grid = torch.cat([W.warp_grid(rois[i:i + 1], SIZE, SIZE, "roi_tanh_polar", angles[i:i + 1], **kwargs)
                          for i in range(batch)])
        return F.grid_sample(images, grid, align_corners=False)

    def restore_loop_call():
        return torch.cat([W.restore(warped[i:i + 1], rois[i:i + 1], SIZE, "roi_tanh_polar", angles[i:i + 1],
                                    **kwargs) for i in range(batch)])

    warp_cases = {
        "facelib": lambda: W.warp(images, rois, SIZE, "roi_tanh_polar", angles, **kwargs),
        "grid_sample": lambda: F.grid_sample(images, warp_grid, align_corners=False),
        "loop-call": loop_call,
        "loop-grid": loop_grid,
    }
    restore_cases = {
        "facelib": lambda: W.restore(warped, rois, SIZE, "roi_tanh_polar", angles, **kwargs),
        "grid_sample": lambda: F.grid_sample(wrapped, restore_grid, align_corners=False),
        "loop-call": restore_loop_call,
    }
    return warp_cases, restore_cases


def keep_freed_memory() -> bool:
    """Ask glibc to serve blocks under 256 MiB from a heap it does not give back (False elsewhere)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 256 << 20)) and bool(libc.mallopt(m_trim_threshold, 1 << 30))


def table(batches: list[int], repeats: int, device: str) -> None:
    print(f"{'op':8s} {'B':>4s} {'facelib ms':>11s} {'grid_sample':>12s} {'loop-call':>10s} {'loop-grid':>10s}"
          f" {'(a) vs call':>12s} {'(a) vs grid':>12s} {'(b) floor':>10s}")
    for batch in batches:
        warp_cases, restore_cases = cases(batch, device)
        for op, functions in (("warp", warp_cases), ("restore", restore_cases)):
            t = measure(functions, repeats, device)
            loop_grid = t.get("loop-grid", float("nan"))
            print(f"{op:8s} {batch:4d} {t['facelib'] * 1e3:11.3f} {t['grid_sample'] * 1e3:12.3f} "
                  f"{t['loop-call'] * 1e3:10.3f} {loop_grid * 1e3:10.3f} {t['loop-call'] / t['facelib']:11.2f}x "
                  f"{loop_grid / t['facelib']:11.2f}x {t['grid_sample'] / t['facelib']:9.2f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 32, 256])
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    name = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {args.threads} threads"
    print(f"facelib.warp benchmark: roi_tanh_polar 112x112 -> 112x112, keep_aspect_ratio, per-sample angles; "
          f"{name}; torch {torch.__version__}; median of {args.repeats}")
    print("\n[1] default allocator")
    table(args.batches, args.repeats, args.device)
    if args.device == "cpu" and keep_freed_memory():
        print("\n[2] glibc keeps freed memory (steady state of a long-running process)")
        table(args.batches, args.repeats, args.device)
    print("\n(a): loop time / facelib time (target >= 7x at B=256); "
          "(b): grid_sample time / facelib time (target >= 0.8x at B=256)")


if __name__ == "__main__":
    main()
