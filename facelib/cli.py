"""The ``facelib`` command."""

from __future__ import annotations

import argparse
import logging
import sys

from .data import fetch as fetch_module


def _fetch(args: argparse.Namespace) -> int:
    for dataset in args.datasets:
        files = fetch_module.fetch(dataset, progress=not args.quiet)
        for relative, local in files.items():
            print(f"{relative}: {local}")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.run(args)
    except fetch_module.DataError as err:
        print(f"facelib {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
