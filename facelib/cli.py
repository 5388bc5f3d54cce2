"""The ``facelib`` command."""

from __future__ import annotations

import argparse
import logging
import sys

from .data import fetch as fetch_module

NO_FACE_EXIT = 3


def _fetch(args: argparse.Namespace) -> int:
    for dataset in args.datasets:
        files = fetch_module.fetch(dataset, progress=not args.quiet)
        for relative, local in files.items():
            print(f"{relative}: {local}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from .embed import FaceEmbedder, NoFaceError, cosine_to_distance, distance_to_cosine, squared_distance

    embedder = FaceEmbedder(args.model, args.space, args.weights, args.device, flip=not args.no_flip)
    if embedder.trained:
        print(f"model: {args.model} in {args.space} space, weights: {embedder.weights}")
    else:
        print(f"model: {args.model} in {args.space} space, weights: none trained yet (random initialisation): "
              "the distance and the decision below are meaningless")
    results = []
    for photo in (args.photo_a, args.photo_b):
        try:
            result = embedder.embed_photo(photo, align=not args.no_align)
        except NoFaceError as err:
            print(f"facelib verify: {err}", file=sys.stderr)
            return NO_FACE_EXIT
        box = ", ".join(f"{v:.0f}" for v in result.box)
        which = "1 face" if result.faces == 1 else f"{result.faces} faces, using the largest (#{result.index + 1})"
        print(f"{photo}: {which}, box ({box}), {'aligned by 5 landmarks' if not args.no_align else 'box crop'}")
        results.append(result)
    if args.threshold_cosine is not None:
        threshold = cosine_to_distance(args.threshold_cosine)
    else:
        threshold = args.threshold if args.threshold is not None else embedder.threshold
    distance = squared_distance(results[0].embedding, results[1].embedding)
    print(f"squared L2 distance: {distance:.4f} (cosine similarity {distance_to_cosine(distance):.4f})")
    print(f"threshold: {threshold:.4f} (cosine similarity {distance_to_cosine(threshold):.4f})")
    print(f"decision: {'same person' if distance < threshold else 'different persons'}"
          + ("" if embedder.trained else " (untrained model: not a real decision)"))
    return 0


def _export(args: argparse.Namespace) -> int:
    from .export import export_onnx
    from .models import create_model
    from .weights import find_weights, load_weights

    model = create_model(args.model)
    weights = args.weights
    if weights is None and not args.random_init:
        entry = find_weights(args.model, args.space)
        if entry is None:
            print(f"facelib export: no trained weights for {args.model} in {args.space} space; give --weights or "
                  "--random-init", file=sys.stderr)
            return 2
        weights = entry.path
    if weights is not None:
        load_weights(model, weights)
    difference = export_onnx(model, args.output, check=not args.no_check)
    check = "" if difference is None else f"; onnxruntime vs PyTorch max |diff| {difference:.2e}"
    print(f"wrote {args.output}{check}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facelib", description="Face embeddings in RoI-tanh warping spaces.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    commands = parser.add_subparsers(dest="command", required=True)
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
                    "L2 distances d between unit embeddings, or cosine similarities c (d = 2 - 2c).")
    verify.add_argument("photo_a")
    verify.add_argument("photo_b")
    verify.add_argument("--model", default="iresnet18", choices=list_models())
    verify.add_argument("--space", default="cartesian", choices=SPACES)
    verify.add_argument("--weights", help="weight file (default: the registered weights for model and space)")
    verify.add_argument("--no-align", action="store_true", help="crop around the box instead of 5-point alignment")
    verify.add_argument("--no-flip", action="store_true", help="do not add the mirrored face's embedding")
    group = verify.add_mutually_exclusive_group()
    group.add_argument("--threshold", type=float, help="squared L2 distance below which faces match")
    group.add_argument("--threshold-cosine", type=float, help="cosine similarity above which faces match")
    verify.add_argument("--device", default="cpu")
    verify.set_defaults(run=_verify)

    export = commands.add_parser("export", help="export a backbone to ONNX and check it against PyTorch")
    export.add_argument("--model", default="mobilefacenet", choices=list_models())
    export.add_argument("--space", default="roi_tanh_polar", choices=SPACES, help="which registered weights to use")
    export.add_argument("--weights", help="weight file (default: the registered weights for model and space)")
    export.add_argument("--random-init", action="store_true", help="export untrained weights (for testing)")
    export.add_argument("--no-check", action="store_true", help="skip the onnxruntime comparison")
    export.add_argument("--output", required=True)
    export.set_defaults(run=_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.run(args)
    except (fetch_module.DataError, FileNotFoundError, ValueError, ImportError) as err:
        print(f"facelib {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
