"""The results table: every shipped model and the peers through the identical verification pipeline.

    python benchmarks/results.py [--rotation-pairs 600] [--peers sface dlib] [--lfw-only [PEER ...]] [--write-docs]
    python benchmarks/results.py --write-docs --only MODEL [MODEL ...]

Rows: every entry of ``weights/registry.json`` and the peers (SFace; dlib when installed). Columns: LFW
10-fold accuracy +- std and VAL@FAR=1e-3 (6,000 pairs), CFP-FF and CFP-FP accuracy (7,000 pairs each),
LFW accuracy with both faces rotated in-plane by 0/30/60/90/180 degrees (on the balanced subset of
``--rotation-pairs`` pairs; 0 means all 6,000), parameters, and CPU milliseconds per face (flip
included, batch 64, best of 5 passes, this machine's threads); dlib runs LFW only
unless ``--lfw-only`` says otherwise. Benchmark packs are aligned by
:data:`facelib.detect.BENCHMARK_DETECTOR`; embeddings are cached, so a rerun is instant. Writes
``results/results.md`` and ``results/results.json``; ``--write-docs`` also puts the table into README.md,
weights/README.md and the results section of every model card, and writes each measured model's LFW
accuracy, threshold and CI-subset accuracy into ``weights/registry.json`` and its card (bf16 figures move
by tenths of a point between CPUs, so the registry follows the table it sits beside).

``--only`` measures just the named registry models and carries every other row over, unchanged, from
README.md's table (and says so under the table): on a fresh machine without the embedding caches the full
table takes about two hours of two CPU cores, one new row minutes. The full command stays the one that
regenerates every figure.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from facelib.detect import BENCHMARK_DETECTOR, BENCHMARK_DETECTORS
from facelib.embed import FaceEmbedder, resolve_precision
from facelib.peers import PEERS, create_peer
from facelib.verification import load_benchmark, prepare, rotation_curve, run
from facelib.weights import CHECK_PAIRS, measured_fields, refresh_measurements, registry, weights_dir

ROOT = Path(__file__).resolve().parents[1]
ROTATIONS = (0, 30, 60, 90, 180)
START, END = "<!-- results:start -->", "<!-- results:end -->"


def _ms_per_face(embedder, faces: np.ndarray, repeats: int = 5) -> float | None:
    """Best of ``repeats`` timed passes over ``faces`` (the minimum is the least disturbed by other work), after
    one untimed pass of the same batch size (the backend prepares its kernels for a batch shape on first use)."""
    if not hasattr(embedder, "embed_faces"):
        return None
    embedder.embed_faces(faces)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        embedder.embed_faces(faces)
        times.append(time.perf_counter() - start)
    return 1000 * min(times) / len(faces)


def evaluate_row(name: str, embedder, params: float | None, rotation_pairs: int | None, lfw_only: bool = False
                 ) -> dict:
    row = {"name": name, "key": embedder.key, "params_m": params}
    lfw = load_benchmark("lfw", progress=False)
    pack, path = prepare(lfw)
    result, _ = run(lfw, pack, path, embedder)
    row.update(lfw=result.accuracy, lfw_std=result.accuracy_std, val=result.val,
               threshold=float(result.fold_thresholds.mean()))
    row["ms_per_face"] = _ms_per_face(embedder, pack.faces[:64])
    if lfw_only:
        print(f"{name}: LFW {100 * row['lfw']:.2f} +- {100 * row['lfw_std']:.2f} (LFW only)", flush=True)
        return row | {"cfp-ff": None, "cfp-fp": None, "rotations": {str(r): None for r in ROTATIONS}}
    for benchmark in ("cfp-ff", "cfp-fp"):
        bench = load_benchmark(benchmark, progress=False)
        pack_b, path_b = prepare(bench)
        row[benchmark] = run(bench, pack_b, path_b, embedder)[0].accuracy
    small = load_benchmark("lfw", rotation_pairs, progress=False)
    pack_s, path_s = prepare(small)
    curve = rotation_curve(small, pack_s, path_s, embedder, ROTATIONS)
    row["rotations"] = {f"{angle:g}": accuracy for angle, accuracy in curve}
    print(f"{name}: LFW {100 * row['lfw']:.2f} +- {100 * row['lfw_std']:.2f}", flush=True)
    return row


def _percent(cell: str) -> float | None:
    return None if cell == "not run" else float(cell) / 100


def rows_from_table(text: str) -> dict[str, dict]:
    """The rows of the results block in ``text`` (a document :func:`markdown` wrote), by model name.

    The inverse of :func:`markdown` at its rounding, so ``markdown`` writes a parsed row back unchanged.
    Columns that the table does not show (the mean fold threshold) are None.
    """
    if START not in text or END not in text:
        raise ValueError(f"no results block ({START} ... {END}) in the document")
    block = text.split(START, 1)[1].split(END, 1)[0]
    rows = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or cells[0] == "model":
            continue
        if len(cells) != 7 + len(ROTATIONS):
            raise ValueError(f"a results row with {len(cells)} columns, not {7 + len(ROTATIONS)}: {line!r}")
        name, lfw, val, ff, fp, *rot = cells[:5 + len(ROTATIONS)]
        params, ms = cells[-2:]
        lfw_mean, _, lfw_std = lfw.partition("+-")
        rows[name] = {"name": name, "params_m": None if params == "-" else float(params),
                      "lfw": _percent(lfw_mean.strip()),
                      "lfw_std": _percent(lfw_std.strip()) if lfw_std else None,
                      "val": _percent(val), "threshold": None,
                      "ms_per_face": None if ms == "-" else float(ms),
                      "cfp-ff": _percent(ff), "cfp-fp": _percent(fp),
                      "rotations": {f"{r:g}": _percent(c) for r, c in zip(ROTATIONS, rot, strict=True)}}
    return rows


def precision_words(rows: list[dict]) -> str:
    """What the table says of the facelib rows' precision (a row's ``precision``; peers have none): the
    commonest, then the rows measured in another (an ``--only`` update on a CPU without native bf16 measures
    its rows in fp32 beside bf16 ones)."""
    by_row = {row["name"]: row["precision"] for row in rows if row.get("precision")}
    if not by_row:
        return f"facelib models in {resolve_precision('auto', torch.device('cpu'))}"
    counts = Counter(by_row.values())
    common = max(counts, key=lambda p: (counts[p], p))
    others = [f"{', '.join(n for n, p in by_row.items() if p == other)} in {other}"
              for other in sorted(counts) if other != common]
    return f"facelib models in {common}" + (f"; {'; '.join(others)}" if others else "")


def carried_precision(text: str) -> str | None:
    """The precision the results block in ``text`` names first (that of most of its rows), if it names one."""
    found = re.search(r"facelib models in (\w+)", text.split(START, 1)[-1].split(END, 1)[0])
    return found.group(1) if found else None


def markdown(rows: list[dict], rotation_pairs: int | None, command: str = "python benchmarks/results.py",
             measured: list[str] | None = None) -> str:
    subset = "all 6,000 pairs" if rotation_pairs is None else f"{rotation_pairs} of the 6,000 pairs"
    header = ("| model | LFW % | VAL@FAR=1e-3 % | CFP-FF % | CFP-FP % | "
              + " | ".join(f"LFW rot {r} % " for r in ROTATIONS) + "| params (M) | CPU ms/face |")
    lines = [header, "|" + "---|" * (7 + len(ROTATIONS))]
    def pct(value: float | None, digits: int = 2) -> str:
        return "not run" if value is None else f"{100 * value:.{digits}f}"

    for row in rows:
        rot = " | ".join(pct(row["rotations"][str(r)], 1) for r in ROTATIONS)
        params = f"{row['params_m']:.2f}" if row["params_m"] is not None else "-"
        ms = f"{row['ms_per_face']:.1f}" if row["ms_per_face"] is not None else "-"
        lines.append(f"| {row['name']} | {pct(row['lfw'])} +- {pct(row['lfw_std'])} | {pct(row['val'])} "
                     f"| {pct(row['cfp-ff'])} | {pct(row['cfp-fp'])} | {rot} | {params} | {ms} |")
    lines.append("")
    detectors = ", ".join(f"{k.upper()} {v}" for k, v in BENCHMARK_DETECTORS.items())
    lines.append(f"Generated by `{command}` (alignment: {detectors}; face "
                 f"nearest the centre, 10-fold protocol, flip-summed embeddings; rotation columns on {subset}; "
                 f"CPU ms/face: best of 5 passes over 64 faces, {torch.get_num_threads()} threads, flip included; "
                 f"{precision_words(rows)}).")
    carried = [row["name"] for row in rows if measured is not None and row["name"] not in measured]
    if carried:
        lines[-1] += (f" The last update measured only {', '.join(measured)} (`--only`); the other rows are "
                      f"carried over unchanged from the run before it (their CPU ms/face timed then).")
    return "\n".join(lines)


def _replace_block(path: Path, table: str) -> None:
    text = path.read_text()
    if START not in text:
        return
    block = f"{START}\n{table}\n{END}"
    path.write_text(re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rotation-pairs", type=int, default=600, help="0: all 6,000 pairs")
    parser.add_argument("--peers", nargs="*", default=sorted(PEERS, reverse=True))
    parser.add_argument("--lfw-only", nargs="*", default=["dlib"], metavar="PEER",
                        help="peers evaluated on LFW only (default: dlib, ~0.1 s a photo on a CPU; "
                             "give the flag alone to run every peer on every column)")
    parser.add_argument("--output", default=str(ROOT / "results"))
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--only", nargs="+", metavar="MODEL",
                        help="measure only these registry models; carry every other row over from README.md")
    args = parser.parse_args(argv)
    rotation_pairs = args.rotation_pairs or None
    entries = registry()
    carried = {}
    if args.only:
        unknown = sorted(set(args.only) - {e.key for e in entries})
        if unknown:
            parser.error(f"--only names no registry model: {', '.join(unknown)} "
                         f"(weights/registry.json has {', '.join(e.key for e in entries)})")
        readme = (ROOT / "README.md").read_text()
        carried = rows_from_table(readme)
        before = carried_precision(readme)
        missing = [e.key for e in entries if e.key not in args.only and e.key not in carried]
        if missing:
            parser.error(f"README.md's results table has no row for {', '.join(missing)} to carry over: "
                         f"name it in --only too, or run without --only")
    rows = []
    for entry in entries:
        if args.only and entry.key not in args.only:
            rows.append(carried[entry.key] | {"key": entry.key, "card": entry.card,
                                              "precision": entry.precision or before})
            continue
        embedder = FaceEmbedder(entry.model, entry.space, entry.key, precision="auto")
        params = sum(p.numel() for p in embedder.net.parameters()) / 1e6
        rows.append(evaluate_row(entry.key, embedder, params, rotation_pairs)
                    | {"card": entry.card, "precision": getattr(embedder, "precision", None)})
    labels = {"sface": "SFace (peer, OpenCV, MS1M)", "dlib": "dlib ResNet (peer, own chips)"}
    for peer in args.peers:
        if args.only:
            if (label := labels.get(peer, peer)) in carried:
                rows.append(carried[label] | {"key": peer})
            continue
        try:
            embedder = create_peer(peer)
        except ImportError as err:
            print(f"skipping the {peer} peer: {err}")
            continue
        rows.append(evaluate_row(labels.get(peer, peer), embedder, None, rotation_pairs, peer in args.lfw_only))
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    given = sys.argv[1:] if argv is None else argv
    # the command to name is the one that regenerates every row: without --only and its models
    given = [a for a in given if a != "--only" and not a.startswith("--only=") and a not in (args.only or ())]
    command = " ".join(["python benchmarks/results.py", *given])
    table = markdown(rows, rotation_pairs, command, args.only)
    (output / "results.md").write_text(table + "\n")
    (output / "results.json").write_text(json.dumps(rows, indent=1))
    print(table)
    if args.write_docs:
        _replace_block(ROOT / "README.md", table)
        _replace_block(weights_dir() / "README.md", table)
        measured = [row for row in rows if row.get("card") and row.get("threshold") is not None]
        refresh_measurements({row["name"]: measured_fields(
            row["lfw"], row["threshold"], row["rotations"]["0"] if rotation_pairs == CHECK_PAIRS else None,
            BENCHMARK_DETECTOR, row.get("precision")) for row in measured})
        for row in measured:
            _replace_block(weights_dir() / row["card"], markdown([row], rotation_pairs, command))


if __name__ == "__main__":
    main()
