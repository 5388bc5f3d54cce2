"""The zoo's figures: every shipped model and the peers through the identical verification pipeline, into one
data file, ``weights/results.json``, from which README, ``weights/README.md``, the model cards and
``docs/rotation.png`` are rendered (``--write-docs``; nothing is ever parsed back from Markdown).

    python benchmarks/results.py [--write-docs] [--only NAME ...] [--peers sface dlib] [--measure GROUP ...]
    python benchmarks/results.py --render-only

Per row (models and peers alike):

- LFW: 10-fold accuracy +- std and VAL@FAR=1e-3 on the 6,000 pairs (MTCNN alignment).
- CFP-FF / CFP-FP on the identity-clean pairs (both people among the 176 CFP identities outside the training
  pool; each pair in its protocol fold) as the headline, and on all 7,000 pairs ("includes trained identities"
  for pool-trained models). YuNet alignment.
- LFW with both faces rotated in-plane by 0/30/60/90/180 degrees (the balanced 600-pair subset).
- The decision threshold at FAR 1e-3, calibrated on the 30 pool identities every recipe held out (483 faces,
  ~112k impostor pairs), with its TAR there; on the 600-pair LFW subset, the accuracy at that fixed threshold
  (no refitting on LFW) and the 10-fold accuracy that CI's drift test re-checks.
- CPU ms per face (flip included, batch 64): one interleaved pass over every row, the same threads and
  precision, best of 5; with SFace's as the reference ratio.

Measurement groups (``--measure``): lfw, cfp-all, clean, holdout, rotations, timing. A group not measured keeps
its recorded figures and its stamp (date, precision, CPU), which the documents show. dlib aligns photos itself
and runs LFW only. Embeddings are cached per pack and embedder. On a 2-core AMD EPYC without native bf16 a
MobileFaceNet embeds ~20 faces a second (fp32, flip included): the full table (~20,000 faces a row) takes hours
there, the clean, holdout and timing groups about half an hour. ``--only`` measures just the named rows (the
timing pass always covers every row) and keeps the others' figures from ``weights/results.json``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import torch

from facelib.embed import FaceEmbedder, resolve_precision
from facelib.evaluation import calibrate_threshold
from facelib.peers import create_peer
from facelib.verification import (
    clean_benchmark,
    embeddings_for,
    load_benchmark,
    load_holdout,
    pool_cfp_folders,
    prepare,
    run,
    run_by_protocol_folds,
)
from facelib.weights import CHECK_PAIRS, read_registry, registry, write_registry_file
from facelib.zoo import ROTATIONS, read_results, write_docs, write_results

ROOT = Path(__file__).resolve().parents[1]
FAR = 1e-3
PEER_LABELS = {"sface": "SFace (peer, OpenCV, MS1M)", "dlib": "dlib ResNet (peer, own alignment)"}


GROUPS = ("lfw", "cfp-all", "clean", "holdout", "rotations", "timing")


def measure(name: str, kind: str, embedder, row: dict, groups: set[str], excluded: set[str], stamp: str) -> dict:
    """The figures of ``groups`` for one row, put into ``row`` (whose other figures stay as they were); each group
    records when, in what precision and on what CPU it was measured (``row["measured"]``)."""
    row = dict(row, name=name, kind=kind)
    done = dict(row.get("measured") or {})
    if "lfw" in groups:
        lfw = load_benchmark("lfw", progress=False)
        pack, path = prepare(lfw)
        result, _ = run(lfw, pack, path, embedder)
        row.update(lfw=result.accuracy, lfw_std=result.accuracy_std, val=result.val)
        done["lfw"] = stamp
    if getattr(embedder, "aligns_itself", False):  # dlib: photos in, LFW only
        return row | {"measured": done}
    if "holdout" in groups:
        faces, path_h, labels = load_holdout(progress=False)
        calibration = calibrate_threshold(embeddings_for(faces, path_h, embedder), labels, FAR)
        small = load_benchmark("lfw", CHECK_PAIRS, progress=False)
        pack_s, path_s = prepare(small)
        subset, distances = run(small, pack_s, path_s, embedder)
        same = np.array([p.same for p in small.pairs])
        row.update(threshold=calibration.threshold, threshold_far=calibration.far, threshold_tar=calibration.tar,
                   holdout={"faces": calibration.faces, "identities": calibration.identities,
                            "impostor_pairs": calibration.impostor_pairs, "genuine_pairs": calibration.genuine_pairs},
                   lfw_at_threshold=float(((distances < calibration.threshold) == same).mean()),
                   subset_accuracy=subset.accuracy, subset_precision=getattr(embedder, "precision", None))
        done["holdout"] = stamp
    if "clean" in groups:
        for benchmark in ("cfp-ff", "cfp-fp"):
            bench = clean_benchmark(benchmark, excluded, progress=False)
            pack_c, path_c = prepare(bench)
            clean, _ = run_by_protocol_folds(bench, pack_c, path_c, embedder)
            tag = benchmark.replace("-", "_")
            row.update({tag: clean.accuracy, f"{tag}_std": clean.accuracy_std, f"{tag}_pairs": len(bench.pairs),
                        f"{tag}_same_pairs": int(sum(p.same for p in bench.pairs))})
        done["clean"] = stamp
    if "cfp-all" in groups:
        for benchmark in ("cfp-ff", "cfp-fp"):
            bench = load_benchmark(benchmark, progress=False)
            pack_b, path_b = prepare(bench)
            row[f"{benchmark.replace('-', '_')}_all"] = run(bench, pack_b, path_b, embedder)[0].accuracy
        done["cfp-all"] = stamp
    if "rotations" in groups:
        small = load_benchmark("lfw", CHECK_PAIRS, progress=False)
        pack_s, path_s = prepare(small)
        row["rotations"] = {f"{a:g}": run(small, pack_s, path_s, embedder, float(a))[0].accuracy for a in ROTATIONS}
        done["rotations"] = stamp
    print(f"{name}: measured {', '.join(sorted(groups - {'timing'}))}", flush=True)
    return row | {"measured": done}


def time_rows(embedders: dict[str, object], faces: np.ndarray, repeats: int = 5) -> dict[str, float]:
    """ms per face of every embedder, timed in one interleaved pass (each round times every row once, so load
    from elsewhere falls on all rows alike), best of ``repeats`` after one untimed warm-up call each."""
    timed = {n: e for n, e in embedders.items() if hasattr(e, "embed_faces")}
    for embedder in timed.values():
        embedder.embed_faces(faces)
    best = {name: float("inf") for name in timed}
    for _ in range(repeats):
        for name, embedder in timed.items():
            start = time.perf_counter()
            embedder.embed_faces(faces)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: 1000 * seconds / len(faces) for name, seconds in best.items()}


def machine() -> dict:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    model = next((line.split(":", 1)[1].strip() for line in flags.splitlines() if line.startswith("model name")),
                 platform.processor() or platform.machine())
    return {"cpu": model, "threads": torch.get_num_threads(), "torch": torch.__version__,
            "precision": resolve_precision("auto", torch.device("cpu"))}


def write_docs_and_registry() -> None:
    """Put each model's held-out threshold and CI-subset figure from ``weights/results.json`` into the registry,
    then render every document from the data."""
    rows = {row["name"]: row for row in read_results().get("rows", [])}
    reg = read_registry()
    models = []
    for e in reg.models:
        row = rows.get(e.name, {})
        if "threshold" in row:
            e = replace(e, threshold=round(row["threshold"], 4), subset_accuracy=round(100 * row["subset_accuracy"], 2),
                        precision=row["subset_precision"],
                        threshold_rule=(f"FAR {FAR:g} on the {row['holdout']['identities']} held-out pool identities "
                                        f"({row['holdout']['faces']} faces; benchmarks/results.py)"))
        models.append(e)
    write_registry_file(replace(reg, models=tuple(models)))
    for written in write_docs(ROOT):
        print(f"rendered {written}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="measure only these rows (models or peers)")
    parser.add_argument("--peers", nargs="*", default=["sface", "dlib"])
    parser.add_argument("--measure", nargs="+", choices=GROUPS, default=list(GROUPS),
                        help="which figures to measure (default: all); the others keep their recorded values and "
                             "the date, precision and CPU they were measured with")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: render the documents from weights/results.json as it is")
    parser.add_argument("--write-docs", action="store_true",
                        help="render README, weights/README.md, the model cards and docs/rotation.png, and put the "
                             "calibrated thresholds and CI-subset figures into weights/registry.json")
    args = parser.parse_args(argv)
    entries = registry()
    names = [e.name for e in entries] + [PEER_LABELS.get(p, p) for p in args.peers]
    wanted = set(args.only or names)
    unknown = sorted(wanted - set(names) - set(args.peers))
    if unknown:
        parser.error(f"no such row: {', '.join(unknown)}; rows: {', '.join(names)}")
    if args.render_only:
        write_docs_and_registry()
        return 0
    previous = read_results()
    rows = {row["name"]: row for row in previous.get("rows", [])}
    groups = set(args.measure)
    info = machine()
    stamp = f"{date.today().isoformat()}, {info['precision']}, {info['cpu']} ({info['threads']} threads)"
    peer_stamp = f"{date.today().isoformat()}, {info['cpu']} ({info['threads']} threads)"
    excluded = pool_cfp_folders()
    embedders = {}
    for entry in entries:
        embedder = FaceEmbedder(weights=entry.name, precision=info["precision"])
        embedders[entry.name] = embedder
        if entry.name in wanted:
            params = sum(p.numel() for p in embedder.net.parameters()) / 1e6
            base = rows.get(entry.name, {}) | {"params_m": params, "mb": entry.path.stat().st_size / 1e6}
            rows[entry.name] = measure(entry.name, "model", embedder, base, groups, excluded, stamp)
    for peer in args.peers:
        label = PEER_LABELS.get(peer, peer)
        try:
            embedder = create_peer(peer)
        except ImportError as err:
            print(f"skipping the {peer} peer: {err}")
            continue
        embedders[label] = embedder
        if label in wanted or peer in wanted:
            rows[label] = measure(label, "peer", embedder, rows.get(label, {}) | {"peer": peer}, groups, excluded,
                                  peer_stamp)
    order = [n for n in names if n in rows]
    timing = previous.get("timing", {})
    if "timing" in groups:
        lfw = load_benchmark("lfw", CHECK_PAIRS, progress=False)
        faces = prepare(lfw)[0].faces[:64]
        for name, ms in time_rows({n: embedders[n] for n in order if n in embedders}, faces).items():
            rows[name]["timing"] = {"ms_per_face": ms}
        timing = info | {"date": date.today().isoformat()}
    data = {"timing": timing, "far": FAR, "check_pairs": CHECK_PAIRS, "rows": [rows[n] for n in order]}
    path = write_results(data)
    print(f"wrote {path}")
    if args.write_docs:
        write_docs_and_registry()
    return 0


if __name__ == "__main__":
    sys.exit(main())
