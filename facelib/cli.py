"""The ``facelib`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .data import BENCHMARKS
from .data import fetch as fetch_module
from .detect import DEFAULT_DETECTOR, DEFAULT_ORIENTATION, DETECTORS, FACE_CHOICES, ORIENTATIONS
from .peers import PEERS

NO_FACE_EXIT = 3
DETECTOR_NAMES = list(DETECTORS)


def _fetch(args: argparse.Namespace) -> int:
    for dataset in args.datasets:
        files = fetch_module.fetch(dataset, progress=not args.quiet)
        for relative, local in files.items():
            print(f"{relative}: {local}")
    return 0


SAME_EXIT, DIFFERENT_EXIT, USAGE_EXIT = 0, 1, 2  # verify's exit status, like cmp: 3 is NO_FACE_EXIT


def _verify(args: argparse.Namespace) -> int:
    import json

    from . import __version__
    from .embed import FaceEmbedder, NoFaceError, cosine_to_distance, distance_to_cosine, squared_distance

    if args.threshold_cosine is not None and not -1.0 <= args.threshold_cosine <= 1.0:
        raise ValueError(f"--threshold-cosine must be a cosine similarity in [-1, 1]; got {args.threshold_cosine}")
    if args.threshold is not None and not 0.0 <= args.threshold <= 4.0:
        raise ValueError(f"--threshold must be a squared L2 distance between unit vectors, in [0, 4]; got "
                         f"{args.threshold}")
    embedder = FaceEmbedder(args.model, args.space, args.weights, args.device, flip=not args.no_flip,
                            face_choice=args.face_choice, orientation=args.orientation)
    say = (lambda *a, **k: None) if args.json else print
    if embedder.trained:
        say(f"model: {embedder.name} ({embedder.model_name} in the {embedder.space} space), facelib {__version__}")
    else:
        say(f"model: {embedder.model_name} in the {embedder.space} space, no trained weights (random "
            f"initialisation), facelib {__version__}: the distance and the decision below are meaningless")
    if args.threshold_cosine is not None:
        threshold, source = cosine_to_distance(args.threshold_cosine), "--threshold-cosine"
    elif args.threshold is not None:
        threshold, source = args.threshold, "--threshold"
    else:
        threshold = embedder.threshold
        source = (embedder.entry.threshold_rule if embedder.entry is not None else
                  "the weights file's metadata" if embedder.threshold_known else "none recorded: a generic default")
        if embedder.trained and not embedder.threshold_known:
            print(f"facelib verify: {embedder.weights} records no threshold; using {threshold} (cosine "
                  f"{distance_to_cosine(threshold):.2f}), which is not calibrated for it: give --threshold or "
                  "--threshold-cosine", file=sys.stderr)
    photos = []
    for photo in (args.photo_a, args.photo_b):
        try:
            result = embedder.embed_photo(photo, align=not args.no_align)
        except NoFaceError as err:
            print(f"facelib verify: {err}", file=sys.stderr)
            if args.json:
                print(json.dumps({"error": "no face", "photo": str(photo), "message": str(err)}))
            return NO_FACE_EXIT
        box = ", ".join(f"{v:.0f}" for v in result.box)
        which = ("1 face" if result.faces == 1 else
                 f"{result.faces} faces, using the {args.face_choice} (#{result.index + 1}; --face-choice to change)")
        turned = f", face turned {result.roll:+.0f} deg" if abs(result.roll) >= 10 else ""
        say(f"{photo}: {which}, box ({box}){turned}, "
            f"{'aligned by 5 landmarks' if not args.no_align else 'box crop (no landmarks)'}")
        if result.weak:
            print(f"facelib verify: {photo}: no face passed the confidence rule; fell back to the most confident weak "
                  f"detection (score {result.score:.2f}): check the box above", file=sys.stderr)
        photos.append((photo, result))
    distance = squared_distance(photos[0][1].embedding, photos[1][1].embedding)
    same = distance < threshold
    if args.json:
        print(json.dumps({
            "same_person": bool(same), "distance": round(distance, 6), "cosine": round(distance_to_cosine(distance), 6),
            "threshold": round(float(threshold), 6), "threshold_cosine": round(distance_to_cosine(threshold), 6),
            "threshold_source": source, "model": embedder.name, "architecture": embedder.model_name,
            "space": embedder.space, "trained": embedder.trained, "facelib": __version__,
            "orientation": args.orientation, "alignment": "box" if args.no_align else "5-point",
            "photos": [{"photo": str(photo), "faces": r.faces, "used": r.index, "score": round(r.score, 4),
                        "weak_detection": r.weak, "roll_degrees": round(r.roll, 1),
                        "box": [round(float(v), 1) for v in r.box]} for photo, r in photos]}, indent=1))
    else:
        print(f"squared L2 distance: {distance:.4f} (cosine similarity {distance_to_cosine(distance):.4f})")
        print(f"threshold: {threshold:.4f} (cosine similarity {distance_to_cosine(threshold):.4f}; {source})")
        print(f"decision: {'same person' if same else 'different persons'}"
              + ("" if embedder.trained else " (untrained model: not a real decision)"))
    return SAME_EXIT if same else DIFFERENT_EXIT


def _models(args: argparse.Namespace) -> int:
    from .weights import read_registry
    from .zoo import read_results, sface_ratio, worst_rotation

    reg, results = read_registry(), read_results()
    rows = {r["name"]: r for r in results.get("rows", [])}
    header = ("name", "space", "LFW %", "CFP-FP % (clean)", "worst rot %", "MB", "ms/face", "default", "LFW-disjoint")
    table = [header]
    for e in reg.models:
        row = rows.get(e.name, {})
        ms = (row.get("timing") or {}).get("ms_per_face")
        ratio = sface_ratio(results, e.name)
        cells = (e.name, e.space + (" (rot)" if e.rotation_robust else ""),
                 f"{100 * row['lfw']:.2f}" if row.get("lfw") else "-",
                 f"{100 * row['cfp_fp']:.2f}" if row.get("cfp_fp") else "-",
                 f"{100 * worst_rotation(row):.1f}" if row.get("rotations") else "-",
                 f"{row['mb']:.1f}" if row.get("mb") else "-",
                 "-" if ms is None else f"{ms:.1f}" + (f" ({ratio:.2f}x SFace)" if ratio else ""),
                 "*" if e.default else "", "yes" if e.lfw_disjoint else "no")
        table.append(cells)
    widths = [max(len(r[k]) for r in table) for k in range(len(header))]
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"\nrelease {reg.release}; * the default ({reg.default}). Figures: weights/results.json "
          f"(python benchmarks/results.py --write-docs).")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .embed import FaceEmbedder
    from .export import export_onnx
    from .models import create_model
    from .weights import find_weights

    if args.random_init:
        model = create_model(args.model or "mobilefacenet", 512)
    elif args.weights is None and find_weights(args.model, args.space) is None:
        print(f"facelib export: no trained weights for {args.model} in {args.space} space; give --weights or "
              "--random-init", file=sys.stderr)
        return 2
    else:  # the registry's entry (sha256 checked) or the given file, resolved as everywhere else
        model = FaceEmbedder(args.model, args.space, args.weights).net
    difference = export_onnx(model, args.output, check=not args.no_check)
    check = "" if difference is None else f"; onnxruntime vs PyTorch max |diff| {difference:.2e}"
    print(f"wrote {args.output}{check}")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    import json

    from .align import central_box
    from .data.folders import identity_folders
    from .data.pack import build_pack, save_pack
    from .detect import create_detector
    from .verification import BENCHMARKS, load_benchmark, prepare

    if args.dataset == "folder":
        if not args.path or not args.output:
            print("facelib prepare folder: give the folder (PATH) and --output", file=sys.stderr)
            return 2
        root = Path(args.path)
        keys = [str(s.path.relative_to(root)) for s in identity_folders(root, "folder")]
        detector = create_detector(args.detector or DEFAULT_DETECTOR, device=args.device)
        pack = build_pack(keys, root, detector, central_box, name=root.name)
        path = save_pack(pack, args.output)
    else:
        # cfp-ff and cfp-fp share one pack holding the images of both protocols.
        name = next(b for b in BENCHMARKS if b.startswith(args.dataset))
        pack, path = prepare(load_benchmark(name, args.pairs), args.detector, device=args.device)
    report = dict(pack.report)
    fallbacks = report.pop("fallback_images", [])
    differs = report.pop("choice_differs_images", [])
    print(f"aligned pack: {path}")
    print(json.dumps(report, indent=1))
    if fallbacks:
        examples = ", ".join(fallbacks[:5])
        print(f"no face found (aligned by the fallback box) in {len(fallbacks)} images, e.g. {examples}")
    if differs:
        print(f"the face nearest the centre is not the largest in {len(differs)} images, e.g. {', '.join(differs[:5])}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from .embed import FaceEmbedder
    from .peers import SFaceEmbedder, create_peer
    from .verification import load_benchmark, prepare, run_photo_rotations, run_rotations, space_ensemble, write_json
    from .viz.verification import plot_distances, plot_roc, plot_rotation

    if args.ensemble is not None and (args.peer or args.weights or args.model or args.space):
        print("facelib evaluate: --ensemble names its members itself; leave out --peer, --weights, --model and "
              "--space", file=sys.stderr)
        return 2
    if args.rotate_photos is not None and args.rotations != [0.0]:
        print("facelib evaluate: give --rotate-photos (whole photos, before detection) or --rotations (aligned "
              "crops), not both", file=sys.stderr)
        return 2
    benchmark = load_benchmark(args.benchmark, args.pairs)
    pack, pack_file = prepare(benchmark, args.detector, device=args.device)
    if args.peer == "sface":
        embedder = SFaceEmbedder(flip=not args.no_flip)
    elif args.peer is not None:
        embedder = create_peer(args.peer)
    elif args.ensemble is not None:
        embedder = space_ensemble(args.device, flip=not args.no_flip, precision=args.precision,
                                  names=args.ensemble or None)
        print("ensemble of " + ", ".join(m.entry.key for m in embedder.members))
    else:
        embedder = FaceEmbedder(args.model, args.space, args.weights, args.device, flip=not args.no_flip,
                                precision=args.precision)
        if not embedder.trained:
            print(f"note: {embedder.model_name} has no trained weights for {embedder.space}: "
                  "evaluating a random initialisation")
    report = pack.report
    print(f"{benchmark.name}: {len(benchmark.pairs)} pairs, {report['images']} images "
          f"({report['detected']} detected, {report['fallback']} by the fallback box, {report['detector']})")
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    stem = f"{benchmark.name}-{report['detector']}-{embedder.key}"
    if args.rotate_photos is not None:
        if args.ensemble is not None or getattr(embedder, "aligns_itself", False):
            print("facelib evaluate: --rotate-photos takes a facelib model or the sface peer", file=sys.stderr)
            return 2
        runs = run_photo_rotations(benchmark, embedder, args.rotate_photos, args.orientation,
                                   "box" if args.box_only else "aligned")
        stem += f"-photos-{args.orientation}-{'box' if args.box_only else 'aligned'}"
        for angle, result, _ in runs:
            print(f"photos turned {angle:g} deg: {result.extra['pack']['fallback']} without a face, "
                  f"{result.extra['pack'].get('weak', 0)} weak detections")
    else:
        runs = run_rotations(benchmark, pack, pack_file, embedder, args.rotations)
    curve = [(rotation, result.accuracy) for rotation, result, _ in runs]
    results = [result.to_dict() for _, result, _ in runs]
    for k, (_, result, distances) in enumerate(runs):
        print(result.table())
        if k == 0:
            same = [p.same for p in benchmark.pairs]
            plot_roc([result]).savefig(output / f"{stem}-roc.png", dpi=100)
            plot_distances(distances, same, float(result.fold_thresholds.mean()),
                           title=embedder.key).savefig(output / f"{stem}-distances.png", dpi=100)
    if len(runs) > 1:
        plot_rotation({embedder.key: curve}).savefig(output / f"{stem}-rotation.png", dpi=100)
    path = write_json(output / f"{stem}.json", {"results": results, "rotation_curve": curve})
    print(f"curves and numbers: {path.parent}/{stem}*")
    return 0


def _pack(args: argparse.Namespace) -> int:
    from .data.folders import identity_folders, training_pool
    from .data.lfw import lfw_people
    from .data.pack import pack_faces

    if args.source == "pool":
        pool = training_pool(lfw_people())
        samples = pool.samples
        print(pool.report())
    else:
        samples = identity_folders(args.source, "folder")
    report = pack_faces(samples, args.output, args.detector)
    print(f"wrote {args.output}: {report['images']} images of {report['identities']} identities in the MS1M layout; "
          f"{report['fallback']} without a detected face were aligned by the central box")
    return 0


def _train(args: argparse.Namespace) -> int:
    import json

    from .train.config import load_config
    from .train.loop import train

    config = load_config(args.config, args.set)
    summary = train(config, resume=args.resume, overwrite=args.overwrite)
    print(json.dumps(summary, indent=1))
    return 0


def _version() -> str:
    from . import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facelib", description="Face embeddings in RoI-tanh warping spaces.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--version", action="version", version=f"facelib {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    models = commands.add_parser("models", help="list the shipped models (the zoo) with their figures",
                                 description="The shipped models: name, space, LFW, CFP-FP on identity-clean pairs, "
                                             "worst crop rotation, size, CPU ms a face, the default, LFW-disjoint.")
    models.set_defaults(run=_models)
    fetch = commands.add_parser(
        "fetch", help="fetch public data sets into the cache (or check them in FACELIB_DATA_MIRROR)",
        description="Download and verify data sets. Set FACELIB_DATA_MIRROR to a local folder or URL laid out "
                    "like the official downloads to read from a mirror instead; FACELIB_DATA_DIR sets the cache.")
    fetch.add_argument("datasets", nargs="+", choices=sorted(fetch_module.DATASETS))
    fetch.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    fetch.set_defaults(run=_fetch)

    from .models import list_models
    from .warp import SPACES

    verify = commands.add_parser(
        "verify", help="are two photos the same person?",
        description="Detect the largest face in each photo, align it, embed it and compare. Thresholds are squared "
                    "L2 distances d between unit embeddings, or cosine similarities c (d = 2 - 2c). Exit status "
                    "(like cmp): 0 the same person, 1 different persons, 2 a usage or input error, 3 no face found.")
    verify.add_argument("photo_a")
    verify.add_argument("photo_b")
    verify.add_argument("--model", choices=list_models(), help="default: the default model (facelib models)")
    verify.add_argument("--space", choices=SPACES, help="with --model: that space's shipped upright model")
    verify.add_argument("--weights", help="a shipped model's name (facelib models) or a weights file; model and "
                                          "space come with it")
    verify.add_argument("--json", action="store_true", help="print one JSON object (decision, distances, "
                                                            "threshold, model, faces and boxes) and nothing else")
    verify.add_argument("--face-choice", default="largest", choices=FACE_CHOICES,
                        help="which face of a photo with several: the largest, or the one nearest the centre")
    verify.add_argument("--orientation", default=DEFAULT_ORIENTATION, choices=ORIENTATIONS,
                        help="search faces upright only, or at any in-plane angle (default; ~4x the detector's cost)")
    verify.add_argument("--no-align", action="store_true",
                        help="box-only: crop around the box instead of 5-point alignment (every model is aligned by "
                             "default; box-only suits the rotation-robust polar model, which carries the face's angle)")
    verify.add_argument("--no-flip", action="store_true", help="do not add the mirrored face's embedding")
    group = verify.add_mutually_exclusive_group()
    group.add_argument("--threshold", type=float, help="squared L2 distance below which faces match")
    group.add_argument("--threshold-cosine", type=float, help="cosine similarity above which faces match")
    verify.add_argument("--device", default="cpu")
    verify.set_defaults(run=_verify)

    export = commands.add_parser("export", help="export a backbone to ONNX and check it against PyTorch")
    export.add_argument("--model", choices=list_models(), help="default: the default model's")
    export.add_argument("--space", choices=SPACES, help="with --model: that space's shipped model")
    export.add_argument("--weights", help="a shipped model's name or a weights file (default: the default model)")
    export.add_argument("--random-init", action="store_true", help="export untrained weights (for testing)")
    export.add_argument("--no-check", action="store_true", help="skip the onnxruntime comparison")
    export.add_argument("--output", required=True)
    export.set_defaults(run=_export)

    prepare = commands.add_parser(
        "prepare", help="detect and align every image of a data set once into a cached aligned pack",
        description="Writes <FACELIB_DATA_DIR>/packs/... (lfw, cfp) or --output (folder), with a report of images, "
                    "faces found, the detector, and the images aligned by the fallback box because no face was found.")
    prepare.add_argument("dataset", choices=["lfw", "cfp", "folder"])
    prepare.add_argument("path", nargs="?", help="for 'folder': a folder with one sub-folder per identity")
    prepare.add_argument("--output", help="for 'folder': the pack file to write (.npz)")
    prepare.add_argument("--pairs", type=int, help="only the images of a subset of N pairs (a multiple of 20)")
    prepare.add_argument("--detector", choices=DETECTOR_NAMES,
                         help=f"default: mtcnn for LFW, yunet for CFP (measured), {DEFAULT_DETECTOR} for a folder")
    prepare.add_argument("--device", default="cpu")
    prepare.set_defaults(run=_prepare)

    evaluate = commands.add_parser(
        "evaluate", help="the verification protocol on LFW or CFP: table, ROC, distances, JSON",
        description="Prepares the benchmark's aligned pack if needed, embeds (cached by weights and space) and prints "
                    "the 10-fold accuracy, VAL@FAR=1e-3, TAR@FAR and per-fold thresholds.")
    evaluate.add_argument("--benchmark", default="lfw", choices=BENCHMARKS)
    evaluate.add_argument("--model", choices=list_models(), help="default: the best model we ship (weights/)")
    evaluate.add_argument("--space", choices=SPACES)
    evaluate.add_argument("--weights", help="weight file or registered name")
    evaluate.add_argument("--peer", choices=sorted(PEERS), help="evaluate a peer model instead of a facelib one")
    evaluate.add_argument("--ensemble", nargs="*", metavar="NAME",
                          help="registered models as one, equal weights (mean squared distance); alone: the upright "
                               "model of every space that the held-out rule picks")
    evaluate.add_argument("--pairs", type=int, help="a subset of N pairs (multiple of 20) for a quick run")
    evaluate.add_argument("--rotations", type=float, nargs="+", default=[0.0],
                          help="in-plane rotations of both faces, degrees (robustness curve)")
    evaluate.add_argument("--rotate-photos", type=float, nargs="+", metavar="DEGREES",
                          help="turn whole photos by these angles before detection (canvas grown, nothing cut off) "
                               "and detect with YuNet, face nearest the centre among confident ones: the rotation "
                               "curve of the whole pipeline (instead of --rotations, which turns aligned crops)")
    evaluate.add_argument("--orientation", default=DEFAULT_ORIENTATION, choices=ORIENTATIONS,
                          help="with --rotate-photos: search faces upright only or at any angle (default)")
    evaluate.add_argument("--box-only", action="store_true",
                          help="with --rotate-photos: embed the box-only crop (no landmarks) instead of the 5-point "
                               "aligned face")
    evaluate.add_argument("--no-flip", action="store_true")
    evaluate.add_argument("--detector", choices=DETECTOR_NAMES, help="default: mtcnn for LFW, yunet for CFP (measured)")
    evaluate.add_argument("--device", default="cpu")
    # facelib.embed.PRECISIONS, spelled out so that the CLI starts without torch (0.25 s, not 1.8 s); a test
    # keeps the two equal
    evaluate.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "auto"],
                          help="a facelib model's arithmetic: fp32 (default), bf16 autocast, or auto (bf16 "
                               "where the CPU has native bf16, as benchmarks/results.py measures)")
    evaluate.add_argument("--output", default="results")
    evaluate.set_defaults(run=_evaluate)

    pack = commands.add_parser(
        "pack", help="detect, align and write faces in the MS1M RecordIO layout (train.rec, train.idx, property)",
        description="SOURCE is 'pool' (the LFW-disjoint training pool of the data mirror: CelebA-299, CFP without "
                    "LFW people, ORL) or a folder with one sub-folder per identity.")
    pack.add_argument("source")
    pack.add_argument("output")
    pack.add_argument("--detector", default=DEFAULT_DETECTOR, choices=DETECTOR_NAMES)
    pack.set_defaults(run=_pack)

    train = commands.add_parser("train", help="train a backbone with a margin loss (CPU, GPU, or torchrun)")
    train.add_argument("--config", required=True, help="a recipe file in configs/")
    train.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a config field")
    train.add_argument("--resume", action="store_true", help="continue from the run's checkpoints")
    train.add_argument("--overwrite", action="store_true", help="start afresh over an earlier run's checkpoints")
    train.set_defaults(run=_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.run(args)
    except _user_errors() as err:
        _close_progress_bars()  # so the message starts its own line, not the end of a bar's
        print(f"facelib {args.command}: {err}", file=sys.stderr)
        return 2


def _close_progress_bars() -> None:
    from tqdm import tqdm

    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input or a failed run, shown as one message, never as a traceback."""
    import zipfile

    import cv2
    from safetensors import SafetensorError

    from .data.recordio import RecordError
    from .train.loop import CheckpointError, NonFiniteLossError

    return (fetch_module.DataError, OSError, ValueError, ImportError, LookupError, RecordError, CheckpointError,
            NonFiniteLossError, SafetensorError, zipfile.BadZipFile, cv2.error)


if __name__ == "__main__":
    sys.exit(main())
