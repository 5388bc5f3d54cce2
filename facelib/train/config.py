"""Training recipes: one plain-Python file per recipe in ``configs/`` defines ``config = TrainConfig(...)``.

Values can be overridden from the command line with ``--set name=value`` (parsed as Python literals
where possible: ``--set batch_size=128 --set space='roi_tanh_polar'``).
"""

from __future__ import annotations

import ast
import dataclasses
import math
import re
import runpy
from dataclasses import dataclass, field
from pathlib import Path

from ..data import BENCHMARKS


@dataclass
class TrainConfig:
    """Everything one training run needs; each field is documented by its comment."""

    data: str = ""  # MS1M-layout folder (train.rec/.idx/property) or a folder of aligned faces per identity
    output: str = "runs/default"  # checkpoints, TensorBoard logs, final weights
    model: str = "mobilefacenet"
    space: str = "roi_tanh_polar"  # warping space the model learns in
    embedding_size: int = 512
    init_weights: str = ""  # start from these weights (a registered name, sha256 checked, or a file); "": random;
    # "sface": the SFace teacher's own weights, converted from its ONNX file (model "sfacenet" only)
    loss: str = "arcface"  # arcface | cosface | combined
    loss_args: dict = field(default_factory=lambda: {"s": 64.0, "m": 0.5})
    margin_weight: float = 1.0  # weight of the margin loss on the labels (0: none, no class centres)
    teacher: str = ""  # distillation teacher ("sface"), or "" for none; see facelib.train.distill
    distill_weight: float = 1.0  # weight of 1 - cos(student, teacher)
    similarity_weight: float = 0.0  # weight of the in-batch similarity-matrix term
    min_identity_cosine: float = 0.2  # drop images whose teacher embedding is this far from their identity
    mixup_faces: int = 0  # add this many mixed faces (two training faces of different identities blended),
    # labelled once by the teacher and cached; see facelib.train.distill. Needs a teacher and margin_weight=0
    mixup_draw: int = 0  # which draw of mixed faces (0: the first); another gives fresh blends, the same held-out
    # identities
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
    compile: bool = False  # torch.compile the training forward and backward (Inductor; needs a C++ compiler):
    # ~2 min to compile, then ~1.4x the steps/s of eager bf16 on a 2-core AMX CPU; weights and checkpoints
    # are the uncompiled model's, so a run may be resumed with or without it
    on_nonfinite: str = "stop"  # stop (error naming the step) | skip (drop the batch, counted)
    on_bad_image: str = "raise"  # raise (error naming the record) | skip (counted)
    # Geometric (RoI jitter, rotation in radians; every space, Cartesian included), flips, and colour:
    # brightness/contrast/saturation jitter of up to ``colour`` and greyscale with probability ``grey``.
    augment: dict = field(default_factory=lambda: {"max_shift": 0.08, "max_scale": 0.1, "max_rotation": 0.35,
                                                   "flip": True})
    checkpoint_every: int = 200
    verify_every: int = 0  # steps between checks (verification and held-out cosine; 0: only at the end)
    verify_benchmark: str = "lfw"  # the benchmark of those checks: lfw | cfp-ff | cfp-fp | "" (none: the
    # distillation recipes select on held-out pool identities and read LFW once, when a model is shipped)
    verify_pairs: int | None = 600  # how many of its pairs (a multiple of 20; None: all of them)
    log_every: int = 10
    num_workers: int = 2
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda

    def __post_init__(self) -> None:
        """Check every field's type and range, naming the field: bad values fail here, before training."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            expected = _TYPES.get(f.type)
            if expected is None:
                continue
            if isinstance(value, bool) and bool not in expected or not isinstance(value, expected):
                raise ValueError(f"config field {f.name} must be {f.type}; got {value!r} ({type(value).__name__})")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"config field {f.name} must be a finite number; got {value!r}")
        self.decay_steps = tuple(self.decay_steps)
        if not all(isinstance(s, int) for s in self.decay_steps):
            raise ValueError(f"config field decay_steps must be whole step numbers; got {self.decay_steps!r}")
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"config field {name} must be one of {', '.join(map(repr, choices))}; got "
                                 f"{getattr(self, name)!r}")
        if not (self.device in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", self.device)):
            raise ValueError(f"config field device must be auto, cpu, cuda or cuda:N; got {self.device!r}")
        for name in ("total_steps", "batch_size", "checkpoint_every", "log_every", "embedding_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"config field {name} must be >= 1; got {getattr(self, name)!r}")
        for name in ("warmup_steps", "num_workers", "verify_every", "weight_decay", "grad_clip", "holdout_identities",
                     "margin_weight", "distill_weight", "similarity_weight", "mixup_faces", "mixup_draw"):
            if getattr(self, name) < 0:
                raise ValueError(f"config field {name} must be >= 0; got {getattr(self, name)!r}")
        if self.lr <= 0:
            raise ValueError(f"config field lr must be > 0; got {self.lr!r}")
        if not 0 < self.sample_rate <= 1:
            raise ValueError(f"config field sample_rate must be in (0, 1]; got {self.sample_rate!r}")
        if self.verify_pairs is not None and (self.verify_pairs < 20 or self.verify_pairs % 20):
            raise ValueError(f"config field verify_pairs must be a multiple of 20 or None; got {self.verify_pairs!r}")
        if self.margin_weight == 0 and not self.teacher:
            raise ValueError("nothing to learn from: margin_weight is 0 and there is no teacher")
        if self.mixup_faces and (not self.teacher or self.margin_weight > 0):
            raise ValueError(f"config field mixup_faces={self.mixup_faces} needs a teacher and margin_weight=0: a "
                             f"mixed face has only the teacher's target, no identity (now teacher={self.teacher!r}, "
                             f"margin_weight={self.margin_weight!r})")
        self._check_dicts()
        if self.mixup_draw and not self.mixup_faces:
            raise ValueError(f"config field mixup_draw={self.mixup_draw} needs mixup_faces > 0: there are no mixed "
                             f"faces to draw")

    def _check_dicts(self) -> None:
        """``augment`` and ``loss_args``: known keys, values of the right kind, each wrong one named."""
        import inspect

        from ..losses import LOSSES

        unknown = sorted(set(self.augment) - set(AUGMENT_KEYS))
        if unknown:
            raise ValueError(f"config field augment has unknown key(s) {', '.join(unknown)}; known: "
                             f"{', '.join(AUGMENT_KEYS)}")
        for key, value in self.augment.items():
            kind = AUGMENT_KEYS[key]
            if kind is bool and not isinstance(value, bool) or kind is str and not isinstance(value, str) or (
                    kind is float and (isinstance(value, bool) or not isinstance(value, (int, float))
                                       or not math.isfinite(value))):
                raise ValueError(f"config field augment[{key!r}] must be a {kind.__name__}; got {value!r}")
        known = [n for n in inspect.signature(LOSSES[self.loss]).parameters]
        unknown = sorted(set(self.loss_args) - set(known))
        if unknown:
            raise ValueError(f"config field loss_args has unknown key(s) {', '.join(unknown)} for loss "
                             f"{self.loss!r}; known: {', '.join(known)}")
        for key, value in self.loss_args.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"config field loss_args[{key!r}] must be a finite number; got {value!r}")

    def replace(self, **changes) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown config field(s) {', '.join(unknown)}; fields: {', '.join(sorted(names))}")
        return dataclasses.replace(self, **changes)


_TYPES = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "dict": (dict,),
          "int | None": (int, type(None)), "tuple[int, ...]": (tuple, list)}
_CHOICES = {"loss": ("arcface", "cosface", "combined"), "schedule": ("poly", "step", "cosine"),
            "optimizer": ("sgd", "adamw"), "amp": ("auto", "fp16", "bf16", "none"), "on_nonfinite": ("stop", "skip"),
            "on_bad_image": ("raise", "skip"), "teacher": ("", "sface"),
            "verify_benchmark": ("", *BENCHMARKS)}


# what ``augment`` may hold: RandomRoIWarp's arguments and the loop's own (flip, colour, grey), with their kinds
AUGMENT_KEYS = {"max_shift": float, "max_scale": float, "max_rotation": float, "interpolation": str,
                "padding": str, "flip": bool, "colour": float, "grey": float}


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
    if path.suffix != ".py":
        raise ValueError(f"{path} is not a recipe: a recipe is a Python file (.py) that defines "
                         "`config = TrainConfig(...)` (see configs/)")
    try:
        namespace = runpy.run_path(str(path))
    except SyntaxError as err:
        raise ValueError(f"{path} is not a recipe: {path}:{err.lineno}: {err.msg}") from None
    except Exception as err:  # a recipe that fails: where in the recipe, and what
        import traceback

        frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename) == path.resolve()
                  or Path(f.filename) == path]
        where = f"{path}:{frames[-1].lineno}" if frames else str(path)
        raise ValueError(f"the recipe failed at {where}: {type(err).__name__}: {err}") from None
    config = namespace.get("config")
    if not isinstance(config, TrainConfig):
        raise ValueError(f"{path} is not a recipe: it must define `config = TrainConfig(...)`")
    changes = {}
    for item in overrides or []:
        if "=" not in item:
            raise ValueError(f"overrides are name=value; got {item!r}")
        name, text = item.split("=", 1)
        changes[name.strip()] = _value(text.strip())
    return config.replace(**changes)


def wants_cuda(device: str) -> bool:
    """Whether a config's ``device`` (``auto``, ``cpu`` or ``cuda[:k]``) asks for CUDA: ``auto`` does where one is."""
    import torch

    return device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())


def fast_amp(device: str = "auto") -> str:
    """``"bf16"`` where bf16 autocast is fast on ``device`` (``auto``, ``cpu`` or ``cuda[:k]``): a CUDA device, or
    a CPU that computes bf16 natively (AMX or AVX512-BF16); else ``"none"`` (fp32), because emulated bf16 is
    ~10x slower than fp32 on CPU. For short runs that should be quick anywhere (notebook 02); a shipped recipe
    keeps the precision it was trained in, which its model card states."""
    from ..embed import cpu_has_fast_bf16

    return "bf16" if wants_cuda(device) or cpu_has_fast_bf16() else "none"


def distill_recipe(space: str, name: str | None = None, *, full_circle: bool = False, **changes) -> TrainConfig:
    """The one distillation recipe of the shipped MobileFaceNets, for any warping space: 128-d students of
    the SFace teacher (``1 - cos``), AdamW with cosine decay, bf16 autocast, RoI jitter, small rotations,
    flips and colour, 30 identities held out for model selection. ``full_circle``: the rotation-robust
    variant, in-plane rotations of up to 180 degrees either way (the teacher's target stays upright).
    ``changes`` override fields."""
    config = TrainConfig(
        data="data/pool", output=f"runs/{name or 'mobilefacenet_' + space}", model="mobilefacenet", space=space,
        embedding_size=128, teacher="sface", margin_weight=0.0, distill_weight=1.0, min_identity_cosine=0.2,
        holdout_identities=30, optimizer="adamw", lr=2e-3, weight_decay=0.05, schedule="cosine", warmup_steps=30,
        batch_size=64, total_steps=1000, grad_clip=5.0, amp="bf16", channels_last=True,
        augment={"max_shift": 0.05, "max_scale": 0.1, "max_rotation": math.pi if full_circle else 0.26,
                 "flip": True, "colour": 0.2, "grey": 0.1},
        checkpoint_every=100, verify_every=250, verify_benchmark="", log_every=10, num_workers=0, seed=0)
    return config.replace(**changes)
