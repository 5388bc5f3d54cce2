"""The fit gap of the shipped distilled models: is a model short of its teacher for want of data or of steps?

    python benchmarks/fit_gap.py [--models NAME ...] [--identities 30]

For every registry model with a recipe (``configs/distill_<name>.py``; all of them unless ``--models`` names
some), the recipe's trainer is built around the shipped weights (sha256 checked, nothing trained) and the
student-teacher cosine is measured, with no augmentation, on two equal-sized sets of pool faces:

- held out: the recipe's held-out identities (the model-selection metric, never trained on);
- trained: every face of ``--identities`` identities drawn (fixed seed) from those the model trained on.

A model that has memorised its ~10k training faces scores far higher on them than on new people (data is the
bound: more steps would widen the gap, not close it); one that scores about the same on both has not yet fit
even the faces it saw (steps are the bound). Needs the pool pack and the teacher cache (``facelib pack pool
data/pool``; the cache is built on first use). The students compute in bf16 on CPUs with native bf16, fp32
elsewhere, as the results table does. Writes ``results/fit_gap.md`` and ``results/fit_gap.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from facelib.embed import resolve_precision
from facelib.train.config import load_config
from facelib.train.loop import Trainer
from facelib.weights import registry

ROOT = Path(__file__).resolve().parents[1]


def recipe_path(name: str) -> Path:
    """The recipe a shipped model was trained with (one per model, named after it)."""
    return ROOT / "configs" / f"distill_{name}.py"


def fit_gap(config, name: str, identities: int = 30, seed: int = 0) -> dict:
    """Student-teacher cosine of the registered model (or weights file) ``name`` on held-out and on trained pool
    faces, built from the recipe ``config`` (its data, space, held-out identities and teacher); trains nothing."""
    if not config.holdout_identities:
        raise ValueError(f"{name}: its recipe holds no identity out (holdout_identities=0); no fit gap to measure")
    with tempfile.TemporaryDirectory() as scratch:
        trainer = Trainer(config.replace(init_weights=name, output=str(Path(scratch) / "run")), callbacks=[])
        labels = trainer.labels
        trained = np.unique(labels[trainer.train_indices])
        if identities < 1 or identities > len(trained):
            raise ValueError(f"--identities must be between 1 and the {len(trained)} trained identities of "
                             f"{config.data}, not {identities}")
        chosen = np.random.default_rng(seed).choice(trained, identities, replace=False)
        sample = trainer.train_indices[np.isin(labels[trainer.train_indices], chosen)]
        held, seen = trainer.teacher_cosine(trainer.holdout_indices), trainer.teacher_cosine(sample)
    return {"model": name, "space": config.space, "holdout_images": int(len(trainer.holdout_indices)),
            "trained_images": int(len(sample)), "trained_identities": sorted(int(c) for c in chosen),
            "holdout_cosine": round(held, 4), "trained_cosine": round(seen, 4),
            "gap": round(seen - held, 4)}


def markdown(rows: list[dict]) -> str:
    lines = ["| model | space | held-out cosine (faces) | trained cosine (faces) | gap |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['space']} | {r['holdout_cosine']:.3f} ({r['holdout_images']}) | "
                     f"{r['trained_cosine']:.3f} ({r['trained_images']}) | {r['gap']:+.3f} |")
    precisions = sorted({r["precision"] for r in rows if r.get("precision")})
    if precisions:
        lines += ["", f"Students in {' and '.join(precisions)} (the precision `auto` picks on this CPU)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", help="registry names (default: every model with a recipe)")
    parser.add_argument("--identities", type=int, default=30, help="trained identities to sample (default 30)")
    parser.add_argument("--output", default=str(ROOT / "results"))
    args = parser.parse_args(argv)
    names = [e.key for e in registry()]
    wanted = args.models or [n for n in names if recipe_path(n).is_file()]
    unknown = [n for n in wanted if n not in names or not recipe_path(n).is_file()]
    if unknown:
        parser.error(f"no registered model with a recipe: {', '.join(unknown)} (models: {', '.join(names)})")
    # the student in the precision the results table uses: bf16 on CPUs with native bf16 (the recipes' own), fp32
    # elsewhere (emulated bf16 is ~10x slower; the cosines move by ~1e-3 between the two)
    precision = resolve_precision("auto", torch.device("cpu"))
    rows = []
    for name in wanted:
        config = load_config(recipe_path(name)).replace(amp="bf16" if precision == "bf16" else "none")
        rows.append(fit_gap(config, name, args.identities) | {"precision": precision})
        print(json.dumps(rows[-1]), file=sys.stderr)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "fit_gap.json").write_text(json.dumps(rows, indent=1) + "\n")
    (output / "fit_gap.md").write_text(markdown(rows))
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
