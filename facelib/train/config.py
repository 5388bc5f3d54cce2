"""Training recipes: one plain-Python file per recipe in ``configs/`` defines ``config = TrainConfig(...)``.

Values can be overridden from the command line with ``--set name=value`` (parsed as Python literals
where possible: ``--set batch_size=128 --set space='roi_tanh_polar'``).
"""

from __future__ import annotations

import ast
import dataclasses
import runpy
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TrainConfig:
    """Everything one training run needs; each field is documented by its comment."""

    data: str = ""  # MS1M-layout folder (train.rec/.idx/property) or a folder of aligned faces per identity
    output: str = "runs/default"  # checkpoints, TensorBoard logs, final weights
    model: str = "mobilefacenet"
    space: str = "roi_tanh_polar"  # warping space the model learns in
    embedding_size: int = 512
    loss: str = "arcface"  # arcface | cosface | combined
    loss_args: dict = field(default_factory=lambda: {"s": 64.0, "m": 0.5})
    margin_weight: float = 1.0  # weight of the margin loss on the labels (0: none, no class centres)
    teacher: str = ""  # distillation teacher ("sface"), or "" for none; see facelib.train.distill
    distill_weight: float = 1.0  # weight of 1 - cos(student, teacher)
    similarity_weight: float = 0.0  # weight of the in-batch similarity-matrix term
    min_identity_cosine: float = 0.2  # drop images whose teacher embedding is this far from their identity
    holdout_identities: int = 0  # identities kept out of training for model selection (student-teacher cosine)
    sample_rate: float = 1.0  # Partial FC share of negative class centres per step
    batch_size: int = 128  # per process
    optimizer: str = "sgd"  # sgd | adamw
    lr: float = 0.1  # for the whole global batch
    momentum: float = 0.9
    weight_decay: float = 5e-4
    warmup_steps: int = 0
    total_steps: int = 1000
    schedule: str = "poly"  # poly (power 2 after warm-up) | step | cosine
    decay_steps: tuple[int, ...] = ()  # for schedule='step': multiply the rate by 0.1 at each
    grad_clip: float = 5.0  # max norm of the backbone gradient (0: off)
    amp: str = "auto"  # auto (fp16 + scaler on CUDA, fp32 on CPU) | fp16 | bf16 | none
    channels_last: bool = True
    on_nonfinite: str = "stop"  # stop (error naming the step) | skip (drop the batch, counted)
    on_bad_image: str = "raise"  # raise (error naming the record) | skip (counted)
    # Geometric (RoI jitter, rotation in radians; every space, Cartesian included), flips, and colour:
    # brightness/contrast/saturation jitter of up to ``colour`` and greyscale with probability ``grey``.
    augment: dict = field(default_factory=lambda: {"max_shift": 0.08, "max_scale": 0.1, "max_rotation": 0.35,
                                                   "flip": True})
    checkpoint_every: int = 200
    verify_every: int = 0  # steps between LFW checks (0: only at the end)
    verify_pairs: int | None = 600  # LFW pairs for those checks (None: no LFW check; distillation recipes
    # select on held-out pool identities instead)
    log_every: int = 10
    num_workers: int = 2
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda

    def replace(self, **changes) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown config field(s) {', '.join(unknown)}; fields: {', '.join(sorted(names))}")
        return dataclasses.replace(self, **changes)


def _value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare string such as mobilefacenet


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    """Run a recipe file and apply ``name=value`` overrides."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: {path}")
    namespace = runpy.run_path(str(path))
    config = namespace.get("config")
    if not isinstance(config, TrainConfig):
        raise ValueError(f"{path} must define `config = TrainConfig(...)`")
    changes = {}
    for item in overrides or []:
        if "=" not in item:
            raise ValueError(f"overrides are name=value; got {item!r}")
        name, text = item.split("=", 1)
        changes[name.strip()] = _value(text.strip())
    return config.replace(**changes)


def distill_recipe(space: str, name: str | None = None, **changes) -> TrainConfig:
    """The one distillation recipe of the shipped MobileFaceNets, for any warping space: 128-d students of
    the SFace teacher (``1 - cos``), AdamW with cosine decay, bf16 autocast, RoI jitter, small rotations,
    flips and colour, 30 identities held out for model selection. ``changes`` override fields."""
    config = TrainConfig(
        data="data/pool", output=f"runs/{name or 'mobilefacenet_' + space}", model="mobilefacenet", space=space,
        embedding_size=128, teacher="sface", margin_weight=0.0, distill_weight=1.0, min_identity_cosine=0.2,
        holdout_identities=30, optimizer="adamw", lr=2e-3, weight_decay=0.05, schedule="cosine", warmup_steps=30,
        batch_size=64, total_steps=1000, grad_clip=5.0, amp="bf16", channels_last=True,
        augment={"max_shift": 0.05, "max_scale": 0.1, "max_rotation": 0.26, "flip": True, "colour": 0.2,
                 "grey": 0.1},
        checkpoint_every=100, verify_every=250, verify_pairs=None, log_every=10, num_workers=0, seed=0)
    return config.replace(**changes)
