"""Make the bundle a distillation run needs on a lent GPU machine, small enough to travel with the working tree
(the device tool carries at most 64 MiB in all, and nothing else can be fetched there).

    python scripts/device_bundle.py data/pool .gpu        # then carry .gpu (see scripts/gpu_train.py)

It writes ``.gpu/pool``: the training pack with every JPEG rewritten by ``jpegtran -optimize -progressive``,
a lossless transcode (same DCT coefficients; every image is decoded from both packs and checked to be
pixel-identical before the pack is kept), ~10 % smaller. And ``.gpu/teachers/<digest>-<key>.npy``: the SFace
teacher cache of the original pack in float16 (half the bytes; at most 5e-4 relative change of a unit
vector), named for the transcoded pack's digest. ``scripts/gpu_train.py`` restores it to float32 there.
jpegtran is libjpeg-turbo's (Debian: ``libjpeg-turbo-progs``); a hand-written transcode would not be lossless.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from facelib.data.recordio import RecordReader, RecordWriter, unpack_image_record
from facelib.train.distill import create_teacher, teacher_cache


def transcode(jpeg: bytes) -> bytes:
    out = subprocess.run(["jpegtran", "-optimize", "-progressive", "-copy", "none"], input=jpeg,
                         capture_output=True, check=True).stdout
    a = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    b = cv2.imdecode(np.frombuffer(out, np.uint8), cv2.IMREAD_COLOR)
    if a is None or b is None or a.shape != b.shape or not np.array_equal(a, b):
        raise SystemExit("jpegtran changed an image's pixels; the bundle would not be the same data")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pack", type=Path, help="an MS1M-layout training pack (train.rec, train.idx, property)")
    parser.add_argument("out", type=Path, help="bundle folder (e.g. .gpu, ignored by git)")
    parser.add_argument("--teacher", default="sface")
    args = parser.parse_args(argv)
    if shutil.which("jpegtran") is None:
        raise SystemExit("jpegtran not found (Debian: apt-get install libjpeg-turbo-progs)")
    key = create_teacher(args.teacher).key
    cache = teacher_cache(args.pack, key)
    if not cache.is_file():
        raise SystemExit(f"no teacher cache {cache}: train once on {args.pack} here first (it builds the cache)")
    pool = args.out / "pool"
    pool.mkdir(parents=True, exist_ok=True)
    before = (args.pack / "train.rec").stat().st_size
    with RecordReader(args.pack / "train.rec", args.pack / "train.idx") as reader, \
            RecordWriter(pool / "train.rec", pool / "train.idx") as writer:
        for k in reader.keys():
            payload = reader.read(k)
            _, image = unpack_image_record(payload)
            if image[:2] == b"\xff\xd8":
                payload = payload[:len(payload) - len(image)] + transcode(image)
            writer.write(k, payload)
    shutil.copyfile(args.pack / "property", pool / "property")
    after = (pool / "train.rec").stat().st_size
    targets = np.load(cache, allow_pickle=False)
    half = teacher_cache(pool, key, root=args.out)
    half.parent.mkdir(exist_ok=True)
    for old in half.parent.glob("*.npy"):
        old.unlink()
    np.save(half, targets.astype(np.float16))
    print(f"{pool}: {before / 2**20:.1f} -> {after / 2**20:.1f} MiB, pixel-identical; teacher cache "
          f"{cache.stat().st_size / 2**20:.1f} -> {half.stat().st_size / 2**20:.1f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
