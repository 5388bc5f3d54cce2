"""How much of the face does each warping space's 112x112 input keep? The teacher on round-tripped faces.

    python benchmarks/warp_ceiling.py [--pairs 0] [--spaces SPACE ...] [--no-flip]

Every LFW face of the benchmark pack is warped into a space exactly as a model's input is
(:func:`facelib.models.round_trip`: around the space's RoI, 112x112, aspect ratio kept), restored to the
aligned 112x112 crop and embedded by the SFace teacher (:class:`facelib.verification.RoundTripEmbedder`),
through the 10-fold protocol. The plain teacher is the first row. The teacher never saw round-tripped faces, so
its drop in a space is an upper bound on what that space's input discards (the blur off the RoI is new to it).
Beside each space: the shipped upright model that the held-out rule picks there (:func:`facelib.weights.space_picks`)
and its LFW accuracy from the registry, the student's distance to the teacher in the same space.

``--pairs 0`` (the default) is all 6,000 pairs: 7-8 min a row on two CPU cores the first time (embeddings
are cached); ``--pairs 600`` the CI subset, under a minute a row. Writes ``results/warp_ceiling.md`` and
``results/warp_ceiling.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facelib._atomic import atomic_path
from facelib.detect import BENCHMARK_DETECTOR
from facelib.peers import SFaceEmbedder
from facelib.verification import RoundTripEmbedder, load_benchmark, prepare, run
from facelib.warp import SPACES
from facelib.weights import space_picks
from facelib.zoo import read_results

ROOT = Path(__file__).resolve().parents[1]


def students() -> dict[str, dict]:
    """Per space, the upright model the held-out rule picks (never LFW) and its registry LFW accuracy (%)."""
    lfw = {row["name"]: row.get("lfw") for row in read_results().get("rows", [])}
    return {e.space: {"model": e.key, "lfw": None if lfw.get(e.key) is None else round(100 * lfw[e.key], 2)}
            for e in space_picks()}


def measure(pairs: int | None, spaces: list[str], flip: bool = True) -> list[dict]:
    """One row for the plain teacher, then one per space: accuracy, its std over the folds, VAL@FAR=1e-3."""
    bench = load_benchmark("lfw", pairs, progress=False)
    pack, path = prepare(bench, BENCHMARK_DETECTOR)
    teacher = SFaceEmbedder(flip=flip)
    shipped = students()
    rows = []
    for space in [None, *spaces]:
        embedder = teacher if space is None else RoundTripEmbedder(teacher, space)
        result = run(bench, pack, path, embedder)[0]
        row = {"space": space or "none (aligned crop)", "pairs": len(bench.pairs), "flip": flip,
               "accuracy": round(100 * result.accuracy, 2), "std": round(100 * result.accuracy_std, 2),
               "val": round(100 * result.val, 2)}
        if space in shipped:
            row |= {"student": shipped[space]["model"], "student_lfw": shipped[space]["lfw"]}
        rows.append(row)
        print(row, flush=True)
    return rows


def table(rows: list[dict]) -> str:
    base = rows[0]["accuracy"]
    lines = ["| input the teacher sees | LFW % | +- | VAL@1e-3 % | drop | shipped model there (held-out rule) "
             "| its LFW % |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        student = f"`{r['student']}` | {r['student_lfw']:.2f}" if "student" in r else "- | -"
        lines.append(f"| {r['space']} | {r['accuracy']:.2f} | {r['std']:.2f} | {r['val']:.2f} | "
                     f"{r['accuracy'] - base:+.2f} | {student} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=0, help="LFW pairs (0: all 6,000; 600: the CI subset)")
    parser.add_argument("--spaces", nargs="+", default=list(SPACES), choices=SPACES)
    parser.add_argument("--no-flip", action="store_true", help="embed each face once, without its mirror image")
    parser.add_argument("--output", default=str(ROOT / "results"))
    args = parser.parse_args(argv)
    rows = measure(args.pairs or None, args.spaces, flip=not args.no_flip)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    text = (f"LFW, {rows[0]['pairs']:,} pairs, SFace teacher{' flip-summed' if rows[0]['flip'] else ''}, "
            f"on faces round-tripped through each space's 112x112 input "
            f"(`python benchmarks/warp_ceiling.py`):\n\n{table(rows)}\n")
    with atomic_path(out / "warp_ceiling.md") as tmp:
        tmp.write_text(text)
    with atomic_path(out / "warp_ceiling.json") as tmp:
        tmp.write_text(json.dumps(rows, indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
