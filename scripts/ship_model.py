"""Ship a trained run into the zoo: as a new model, or as the successor of a shipped one.

    python scripts/ship_model.py runs/RUN --name architecture_space.recipe [--replace] [--min-gain 0.002]

A name already shipped is replaced only with ``--replace`` and only when the run's held-out cosine (student to
teacher on the held-out pool identities: model selection never reads LFW or CFP) beats the shipped model's by
more than ``--min-gain``, the spread of that figure between draws of one recipe. The replaced file is deleted
(git history keeps it). The run is appended to ``weights/lineage.jsonl``; its threshold is calibrated at FAR 1e-3
on the held-out identities, and the LFW subset that CI re-checks is measured. The default model is never
changed here: that is a person's decision in ``weights/registry.json``, noted in ``CHANGELOG.md``. Then
``python benchmarks/results.py --only NAME --write-docs`` measures every figure and renders the card.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import torch

from facelib._atomic import atomic_path
from facelib.data.cfp import cfp_identities, cfp_root
from facelib.data.folders import training_pool
from facelib.data.lfw import lfw_people
from facelib.embed import FaceEmbedder
from facelib.evaluation import calibrate_threshold
from facelib.models import create_model
from facelib.train.loop import TEACHER_INIT, hardware
from facelib.verification import embeddings_for, load_benchmark, load_holdout, prepare, run
from facelib.weights import (
    CHECK_PAIRS,
    WeightsEntry,
    load_weights,
    read_registry,
    save_weights,
    weights_dir,
    write_registry_file,
)
from facelib.zoo import append_lineage, read_lineage

POOL_DATA = "LFW-disjoint pool of ../shared/data (CelebA-299 + CFP without LFW's people + ORL; 30 identities held out)"
TEACHER_DATA = ("SFace's weights (trained by SFace's authors on MS-Celeb-1M, which may hold LFW's people), then the "
                + POOL_DATA)
PRECISION = "auto"  # bf16 autocast on CPUs with native bf16 (4x faster), fp32 elsewhere: as results.py and CI
POOL_LIST = "training_pool_identities.txt"
HOLDOUT_NOISE = 0.002  # held-out cosine spread between draws of one recipe (docs/findings.md, warm restarts)
NAME = re.compile(r"^[a-z0-9]+_[a-z_]+\.[a-z0-9_]+$")


def write_pool_list() -> Path:
    """The identities of the training pool, one a line (CFP ones with their names), for the cards and tests."""
    pool = training_pool(lfw_people(progress=False), progress=False)
    names = cfp_identities(cfp_root(progress=False))
    lines = [f"{identity} {names.get(identity.split('/', 1)[1], '')}".rstrip() if identity.startswith("cfp/")
             else identity for identity in pool.identities]
    path = weights_dir() / POOL_LIST
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path


def may_replace(shipped: WeightsEntry, holdout_cosine: float, min_gain: float = HOLDOUT_NOISE) -> None:
    """Refuse (SystemExit) a successor that does not beat ``shipped`` on the held-out rule by more than ``min_gain``."""
    gain = holdout_cosine - (shipped.holdout_cosine or -1.0)
    if gain <= min_gain:
        raise SystemExit(f"the run's held-out cosine {holdout_cosine:.4f} beats {shipped.name}'s "
                         f"{shipped.holdout_cosine:.4f} by {gain:+.4f}, not more than the noise {min_gain:g}: the "
                         "shipped model stays")


def check_name(name: str, replacing: bool) -> WeightsEntry | None:
    """The shipped entry ``name`` replaces (None for a new model); refuses malformed names and an unasked
    replacement before anything is measured or written."""
    if not NAME.match(name):
        raise SystemExit(f"--name {name!r} must read architecture_space.recipe (e.g. mobilefacenet_cartesian.distill_pool)")
    shipped = next((e for e in read_registry().models if e.name == name), None)
    if shipped is not None and not replacing:
        raise SystemExit(f"{name} is already shipped ({weights_dir() / 'registry.json'}); pass --replace to ship a "
                         f"successor (it must beat it on the held-out rule), or choose a new --name")
    return shipped


def lineage_record(name: str, run_dir: Path, config: dict, summary: dict, sha256: str, file: str,
                   parent: str | None) -> dict:
    """The run as one ``weights/lineage.jsonl`` record (the commit field is filled when it is committed: the
    current HEAD is its parent)."""
    before = [r for r in read_lineage() if r["model"] == name]
    steps = int(summary["steps"])
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=weights_dir()).stdout
    return {"model": name, "segment": run_dir.name, "parent": parent,
            "init": "sface" if config.get("init_weights") == TEACHER_INIT else
            "warm start" if config.get("init_weights") else f"random (seed {config['seed']})",
            "steps": steps, "lr": config["lr"], "schedule": f"{config['schedule']}, warm-up {config['warmup_steps']}",
            "batch": config["batch_size"], "precision": {"none": "fp32"}.get(config.get("amp"), config.get("amp")),
            "mixup_draw": config.get("mixup_draw"), "max_rotation": round(float(config["augment"]["max_rotation"]), 4),
            "hardware": summary["hardware"], "gpu": "NVIDIA" in summary["hardware"] or "cuda" in summary["hardware"],
            "wall_min": round(summary["seconds"] / 60, 1), "resumed": summary.get("steps_this_run", steps) < steps,
            "img_per_s": round(summary["images_per_second"], 1),
            "holdout_cosine": round(summary["holdout_teacher_cosine"], 4), "lfw": None, "lfw_precision": None,
            "sha256": sha256, "file": file, "commit": f"child of {head.strip()[:12]}",
            "cumulative_steps": (before[-1]["cumulative_steps"] if before and parent else 0) + steps}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--name", required=True, help="the zoo name: architecture_space.recipe")
    parser.add_argument("--replace", action="store_true", help="ship the run as the successor of the model --name")
    parser.add_argument("--min-gain", type=float, default=HOLDOUT_NOISE,
                        help=f"held-out cosine a successor must gain (default {HOLDOUT_NOISE}: the noise)")
    args = parser.parse_args(argv)
    run_dir = Path(args.run)
    shipped = check_name(args.name, args.replace)
    if not (run_dir / "summary.json").is_file():
        raise SystemExit(f"{run_dir}: no summary.json, so no finished training run is there (an interrupted one "
                         f"continues with `facelib train --config ... --resume`)")
    summary = json.loads((run_dir / "summary.json").read_text())
    if shipped is not None:
        may_replace(shipped, summary["holdout_teacher_cosine"], args.min_gain)
    config = torch.load(run_dir / "checkpoint-rank0.pt", map_location="cpu", weights_only=True)["config"]
    model = create_model(config["model"], config["embedding_size"])
    load_weights(model, run_dir / f"{config['model']}_{config['space']}.safetensors")
    summary["hardware"] = summary.get("hardware") or hardware(torch.device("cpu"))
    file = f"{args.name}.safetensors"
    path = save_weights(model, weights_dir() / f"{args.name}.incoming.safetensors", half=True, space=config["space"],
                        steps=str(summary["steps"]))
    embedder = FaceEmbedder(config["model"], config["space"], path, precision=PRECISION)
    faces, pack_file, labels = load_holdout(progress=False)
    calibration = calibrate_threshold(embeddings_for(faces, pack_file, embedder), labels)
    bench = load_benchmark("lfw", CHECK_PAIRS, progress=False)
    pack, pack_path = prepare(bench)
    subset = run(bench, pack, pack_path, embedder)[0].accuracy
    from facelib.data.fetch import sha256sum

    sha = sha256sum(path)
    entry = WeightsEntry(
        name=args.name, file=file, model=config["model"], space=config["space"], sha256=sha,
        training_data=TEACHER_DATA if config.get("init_weights") == TEACHER_INIT else "the " + POOL_DATA,
        lfw_disjoint=config.get("init_weights") != TEACHER_INIT, threshold=round(calibration.threshold, 4),
        threshold_rule=f"FAR {calibration.far_target:g} on the {calibration.identities} held-out pool identities "
                       f"({calibration.faces} faces; scripts/ship_model.py)",
        embedding_size=config["embedding_size"], card=f"{args.name}.md", recipe=f"configs/{args.name}.py",
        holdout_cosine=round(summary["holdout_teacher_cosine"], 4),
        max_rotation=round(float(config["augment"]["max_rotation"]), 4), subset_accuracy=round(100 * subset, 2),
        precision=embedder.precision,
        former_names=shipped.former_names if shipped else (), replaces=shipped.replaces if shipped else ())
    reg = read_registry()
    models = [entry if e.name == args.name else e for e in reg.models]
    if shipped is None:
        models.append(entry)
    path.replace(weights_dir() / file)
    if shipped is not None and shipped.file != file:
        shipped.path.unlink(missing_ok=True)  # git history keeps it; lineage.jsonl records where
    write_registry_file(replace(reg, models=tuple(models)))
    append_lineage([lineage_record(args.name, run_dir, config, summary, sha, file,
                                   args.name if shipped is not None else None)])
    write_pool_list()
    print(f"{args.name}: held-out cosine {entry.holdout_cosine:.4f}, threshold {entry.threshold:.4f} (FAR "
          f"{calibration.far_target:g}, TAR {100 * calibration.tar:.1f} % on held-out identities), LFW "
          f"{CHECK_PAIRS}-pair subset {100 * subset:.2f} %; default unchanged ({reg.default}). Next: python "
          f"benchmarks/results.py --only {args.name} --write-docs")


if __name__ == "__main__":
    main()
