"""Rotated photos end to end: LFW photos turned by 0-180 degrees *before* detection, through the default pipeline,
into ``weights/results.json`` (section ``photo_rotation``), from which README's table and ``docs/rotation.png`` are
rendered. Also the cost of detection in any orientation beside the upright detector's, measured side by side in one
run on the same photos.

    python benchmarks/photo_rotation.py [--pairs 600] [--angles 0 30 60 90 120 150 180] [--write-docs]

Rows (every row through the same YuNet detection, face nearest the centre among confident ones):

- ``default``: the default model, detection in any orientation, 5-point alignment (``facelib verify``'s pipeline);
- ``default, upright detection``: the same with ``--orientation upright`` (release 0.1's pipeline);
- ``rotation-robust polar, box only``: ``mobilefacenet_roi_tanh_polar.distill_pool_rot`` on a square crop around the
  box, no landmark used after detection;
- ``SFace (peer)``: OpenCV's SFace on the same 5-point aligned faces.

``--pairs`` takes a balanced subset (a multiple of 20; the 10 folds stay); ``--pairs 0``, the 6,000 pairs. On a 2-core
AMD EPYC the 600-pair subset at 7 angles takes ~40 minutes; the full protocol ~8x that. The turned-photo packs are
cached by data, detector, angle, orientation and ``facelib.detect.SEARCH_VERSION`` (bump it when the search changes).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

from facelib.data.images import load_image, rotate_image
from facelib.detect import create_detector
from facelib.embed import FaceEmbedder
from facelib.peers import SFaceEmbedder
from facelib.verification import PHOTO_ROTATION_DETECTOR, load_benchmark, run_photo_rotations
from facelib.weights import read_registry
from facelib.zoo import read_results, write_docs, write_results

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ROTATION_ROBUST = "mobilefacenet_roi_tanh_polar.distill_pool_rot"


def detection_cost(keys: list[str], root: Path, angles: list[float], repeats: int = 2) -> dict:
    """ms a photo of YuNet upright and in any orientation (the search and, for a tilted face, its second look:
    :func:`facelib.align.detect_and_align`), interleaved photo by photo (best of ``repeats``), on the photos turned
    by each angle; and, on the upright photos, whether the face chosen in any orientation is the upright detector's
    (box IoU above 0.5) and in how many its landmarks moved (by over 0.05 of the inter-ocular distance: the second
    look at a face tilted more than the early stop allows)."""
    from facelib.align import detect_and_align
    from facelib.detect import NoFaceError, _box_iou

    detector = create_detector(PHOTO_ROTATION_DETECTOR)
    times = {(angle, mode): 0.0 for angle in angles for mode in ("upright", "any")}
    shifts = []
    for key in keys:
        photo = load_image(root / key)
        for angle in angles:
            turned = rotate_image(photo, angle, expand=True)[0]
            chosen = {}
            for mode in ("upright", "any"):
                best = np.inf
                for _ in range(repeats):
                    start = time.perf_counter()
                    try:
                        found = detect_and_align(turned, detector, "centre", orientation=mode, confident=True)
                    except NoFaceError:
                        found = None
                    best = min(best, time.perf_counter() - start)
                times[(angle, mode)] += best
                if found is not None:
                    chosen[mode] = found
            if angle == 0 and len(chosen) == 2:
                upright, anywhere = chosen["upright"], chosen["any"]
                iod = np.linalg.norm(upright.landmarks[0] - upright.landmarks[1])
                shifts.append((float(_box_iou(upright.box, anywhere.box[None])[0]),
                               float(np.linalg.norm(anywhere.landmarks - upright.landmarks, axis=1).mean() / iod)))
    per_angle = {f"{angle:g}": {"upright_ms": round(1000 * times[(angle, "upright")] / len(keys), 2),
                                "any_ms": round(1000 * times[(angle, "any")] / len(keys), 2),
                                "ratio": round(times[(angle, "any")] / times[(angle, "upright")], 2)}
                 for angle in angles}
    total = {mode: sum(t for (_, m), t in times.items() if m == mode) for mode in ("upright", "any")}
    count = len(keys) * len(angles)
    return {"photos": count, "angles": [float(a) for a in angles], "per_angle": per_angle,
            "upright_ms": round(1000 * total["upright"] / count, 2), "any_ms": round(1000 * total["any"] / count, 2),
            "ratio": round(total["any"] / total["upright"], 2),
            "upright_same_face": int(sum(iou > 0.5 for iou, _ in shifts)), "upright_photos": len(shifts),
            "upright_landmarks_moved": int(sum(shift > 0.05 for _, shift in shifts))}


def landmark_agreement(keys: list[str], root: Path, angles: list[float]) -> list[dict]:
    """Per angle and orientation, on photos turned before detection: photos with a face found, photos whose chosen
    face's five landmarks lie within 0.1 (and 0.3) of the inter-ocular distance of the upright photo's landmarks mapped
    into the turned photo, and the median error of the face's roll read from its landmarks."""
    from facelib.align import detect_and_align
    from facelib.detect import NoFaceError

    detector = create_detector(PHOTO_ROTATION_DETECTOR)
    rows = {(a, m): {"angle": float(a), "orientation": m, "photos": 0, "found": 0, "within_0.1": 0, "within_0.3": 0,
                     "weak": 0, "roll_errors": []} for a in angles for m in ("upright", "any")}
    for key in keys:
        photo = load_image(root / key)
        try:
            reference = detect_and_align(photo, detector, "centre", orientation="upright")
        except NoFaceError:
            continue
        eyes = np.linalg.norm(reference.landmarks[0] - reference.landmarks[1])
        for angle in angles:
            turned, matrix = rotate_image(photo, angle, expand=True)
            truth = reference.landmarks @ matrix[:, :2].T + matrix[:, 2]
            for mode in ("upright", "any"):
                row = rows[(angle, mode)]
                row["photos"] += 1
                try:
                    found = detect_and_align(turned, detector, "centre", orientation=mode, confident=True)
                except NoFaceError:
                    continue
                error = np.linalg.norm(found.landmarks - truth, axis=1).mean() / eyes
                row["found"] += 1
                row["weak"] += found.weak
                row["within_0.1"] += bool(error < 0.1)
                row["within_0.3"] += bool(error < 0.3)
                row["roll_errors"].append(abs((found.roll - reference.roll - angle + 180) % 360 - 180))
    out = []
    for row in rows.values():
        errors = row.pop("roll_errors")
        out.append(row | {"roll_error_median": round(float(np.median(errors)), 1) if errors else None})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=600, help="balanced LFW subset (0: all 6,000 pairs)")
    parser.add_argument("--angles", type=float, nargs="+", default=[0, 30, 60, 90, 120, 150, 180])
    parser.add_argument("--upright-angles", type=float, nargs="+", default=[0, 90, 180],
                        help="angles at which the upright-detection row is measured")
    parser.add_argument("--cost-photos", type=int, default=100)
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--cost-only", action="store_true",
                        help="measure only the detection cost (and upright agreement) and update that entry")
    args = parser.parse_args(argv)

    bench = load_benchmark("lfw", args.pairs or None, progress=False)
    default = read_registry().default
    print(f"LFW {len(bench.pairs)} pairs, {len(bench.keys())} photos; angles {args.angles}", flush=True)
    cost = detection_cost(bench.keys()[:args.cost_photos], bench.root, [0, 45, 90, 180])
    print(f"detection: {cost}", flush=True)
    landmarks = landmark_agreement(bench.keys()[:args.cost_photos], bench.root, [0, 30, 45, 60, 90, 135, 180])
    for row in landmarks:
        print(f"landmarks: {row}", flush=True)
    stamp = f"{date.today().isoformat()}, fp32, {machine()['cpu']}"
    entries = {"detection": cost | {"measured": stamp}, "landmarks": landmarks}
    if args.cost_only:
        return _save(entries, args.write_docs)
    rows = [
        ("default", default, FaceEmbedder(weights=default), "any", "aligned", args.angles),
        ("default, upright detection", default, FaceEmbedder(weights=default), "upright", "aligned",
         args.upright_angles),
        ("rotation-robust polar, box only", ROTATION_ROBUST, FaceEmbedder(weights=ROTATION_ROBUST), "any", "box",
         args.angles),
        ("SFace (peer)", "sface", SFaceEmbedder(), "any", "aligned", args.angles),
    ]
    measured = []
    for label, model, embedder, orientation, alignment, angles in rows:
        curve, fallback, weak = {}, {}, {}
        for angle, result, _ in run_photo_rotations(bench, embedder, angles, orientation, alignment, progress=False):
            pack = result.extra["pack"]
            curve[f"{angle:g}"], fallback[f"{angle:g}"], weak[f"{angle:g}"] = (
                round(result.accuracy, 5), pack["fallback"], pack.get("weak", 0))
            print(f"{label:34s} {angle:5g} deg: {100 * result.accuracy:6.2f} %  (no face {pack['fallback']}, "
                  f"weak {pack.get('weak', 0)})", flush=True)
        measured.append({"label": label, "model": model, "orientation": orientation, "alignment": alignment,
                         "accuracy": curve, "no_face": fallback, "weak": weak})
    return _save(entries | {"measured": stamp, "pairs": len(bench.pairs), "photos": len(bench.keys()),
                            "detector": PHOTO_ROTATION_DETECTOR, "face_choice": "centre, confident first",
                            "rows": measured}, args.write_docs)


def _save(entries: dict, render: bool) -> int:
    """Put ``entries`` into ``weights/results.json``'s ``photo_rotation`` section (the others stay) and render."""
    results = read_results()
    results.setdefault("photo_rotation", {}).update(entries)
    write_results(results)
    print(f"wrote weights/results.json (photo_rotation: {', '.join(entries)})")
    if render:
        for written in write_docs(ROOT):
            print(f"rendered {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
