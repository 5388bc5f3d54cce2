"""Weight files: the registry in ``weights/registry.json``, safe loading, atomic saving.

Files are loaded without unpickling arbitrary objects: safetensors, or ``torch.load(...,
weights_only=True)`` for ``.pt``/``.pth`` (a plain state dict, or ``{"model": name, "state_dict": ...}``).
A file's architecture is read from its metadata or, failing that, recognised from its tensor names
and shapes, so that loading a file into the wrong model names both architectures.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn

from ._atomic import atomic_path

WEIGHTS_DIR_ENV = "FACELIB_WEIGHTS_DIR"
CHECK_PAIRS = 600  # the balanced LFW subset on which CI re-checks every shipped model


def weights_dir() -> Path:
    """Where the registry and the shipped weights are: ``$FACELIB_WEIGHTS_DIR`` if set; else the repository's
    ``weights/`` folder (a checkout or an editable install); else the copy a wheel ships inside the package
    (``facelib/_weights``, see ``setup.py``)."""
    configured = os.environ.get(WEIGHTS_DIR_ENV)
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parent
    checkout = package.parent / "weights"
    return checkout if (checkout / "registry.json").is_file() else package / "_weights"


@dataclass(frozen=True)
class WeightsEntry:
    """One trained model in the registry (see ``weights/README.md``)."""

    file: str
    model: str
    space: str
    sha256: str
    training_data: str
    protocol: str
    accuracy: float
    threshold: float  # squared L2 distance between normalised flip-summed embeddings
    embedding_size: int = 512
    card: str = ""
    name: str = ""  # how users ask for it (``--weights NAME``); defaults to the file's stem
    default: bool = False  # the model ``facelib verify`` and ``FaceEmbedder()`` use when none is named
    subset_accuracy: float = 0.0  # LFW accuracy (%) on the balanced 600-pair subset CI re-checks
    holdout_cosine: float | None = None  # student-teacher cosine on held-out pool identities: picks the default
    max_rotation: float | None = None  # radians of in-plane rotation training augmented with (pi: rotation-robust)
    precision: str | None = None  # what the measured figures were computed in (bf16, fp32); None: not recorded

    @property
    def rotation_robust(self) -> bool:
        """Trained with rotations of a quarter turn or more (the ``*_rot`` recipes use the full circle)."""
        return self.max_rotation is not None and self.max_rotation >= math.pi / 2

    @property
    def key(self) -> str:
        return self.name or Path(self.file).stem

    @property
    def path(self) -> Path:
        return weights_dir() / self.file


def registry() -> list[WeightsEntry]:
    """The entries of ``weights/registry.json`` (empty when there is none)."""
    path = weights_dir() / "registry.json"
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    return [WeightsEntry(**entry) for entry in data.get("weights", [])]


def measured_fields(accuracy: float, threshold: float, subset_accuracy: float | None, detector: str,
                    precision: str | None = None) -> dict:
    """The registry fields a verification run measures (accuracies as fractions; the threshold the mean of the
    10 folds' squared-L2 thresholds), rounded as ``registry.json`` stores them; without ``subset_accuracy``
    (the :data:`CHECK_PAIRS` subset not run) only the full-LFW fields; with ``precision`` (``bf16`` or ``fp32``,
    what the embedder computed in: bf16 figures move by tenths of a point against fp32) that too."""
    fields = {"accuracy": round(100 * accuracy, 2), "threshold": round(float(threshold), 4)}
    if precision is not None:
        fields["precision"] = precision
    if subset_accuracy is not None:
        fields |= {"subset_accuracy": round(100 * subset_accuracy, 2),
                   "protocol": f"LFW 10-fold, {detector} alignment; {CHECK_PAIRS}-pair subset "
                               f"{100 * subset_accuracy:.2f}"}
    return fields


def card_rows(entry: WeightsEntry) -> dict[str, str]:
    """The rows of a model card's table that restate the entry's measured figures (label -> cell)."""
    return {"threshold": f"squared L2 {entry.threshold:.3f} (cosine {1 - entry.threshold / 2:.3f}): the mean of "
                         "the LFW 10-fold thresholds",
            "CI check": f"LFW {CHECK_PAIRS}-pair subset: {entry.subset_accuracy:.2f} % "
                        "(`tests/test_shipped_weights.py` asserts within 1.5 points; precision "
                        f"`{entry.precision or 'auto'}`)"}


def write_registry(entries: list[WeightsEntry]) -> Path:
    """Write ``registry.json`` atomically; the default is the entry with the highest held-out cosine (never LFW)."""
    best = max(entries, key=lambda e: -1.0 if e.holdout_cosine is None else e.holdout_cosine)
    data = {"weights": [asdict(e) | {"default": e.key == best.key} for e in entries]}
    path = weights_dir() / "registry.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1) + "\n")
    return path


def refresh_measurements(measured: dict[str, dict]) -> None:
    """Put freshly measured figures (name -> :func:`measured_fields`) into ``registry.json`` and into the rows of
    each model's card that restate them, so that a regenerated results table and the registry never disagree
    (bf16 results move by tenths of a point between CPUs)."""
    current = registry()
    unknown = sorted(set(measured) - {e.key for e in current})
    if unknown:
        raise KeyError(f"no registry entry named {', '.join(unknown)}")
    entries = [replace(e, **measured[e.key]) if e.key in measured else e for e in current]
    write_registry(entries)
    for entry in entries:
        card = weights_dir() / entry.card
        if entry.key not in measured or not entry.card or not card.is_file():
            continue
        text = card.read_text()
        for label, cell in card_rows(entry).items():
            row = f"| {label} | {cell} |"
            text = re.sub(rf"^\| {re.escape(label)} \|.*\|$", lambda _, row=row: row, text, flags=re.M)
        with atomic_path(card) as tmp:
            tmp.write_text(text)


SPACES_MODEL = "mobilefacenet"  # the architecture every warping space was trained in by one recipe


def best_by_group(entries: list[WeightsEntry] | None = None) -> dict[tuple[str, str, bool], WeightsEntry]:
    """``{(model, space, rotation_robust): entry}``: for every architecture in every warping space the model with
    the highest held-out cosine (never LFW), among the upright models and among the rotation-robust ones; the first
    listed on a tie."""
    entries = registry() if entries is None else entries
    best: dict[tuple[str, str, bool], WeightsEntry] = {}
    for e in entries:
        group = (e.model, e.space, e.rotation_robust)
        if group not in best or (e.holdout_cosine or -1.0) > (best[group].holdout_cosine or -1.0):
            best[group] = e
    return best


def shortlist(entries: list[WeightsEntry] | None = None) -> list[WeightsEntry]:
    """The models to compare first: :func:`best_by_group` and the default, in the registry's order."""
    entries = registry() if entries is None else entries
    chosen = {e.key for e in best_by_group(entries).values()} | {e.key for e in entries if e.default}
    return [e for e in entries if e.key in chosen]


def space_picks(entries: list[WeightsEntry] | None = None) -> list[WeightsEntry]:
    """The upright :data:`SPACES_MODEL` of every warping space that has one, by the held-out rule of
    :func:`best_by_group`, in the registry's order: the members of the default space ensemble (``facelib evaluate
    --ensemble``) and the models the warp-ceiling table names. Other architectures (the teacher-initialised
    ``sfacenet`` row) are separate rows, not part of the one-recipe comparison of spaces."""
    entries = registry() if entries is None else entries
    chosen = {e.key for (model, _, robust), e in best_by_group(entries).items() if model == SPACES_MODEL and not robust}
    return [e for e in entries if e.key in chosen]


def select_models(models: str | list[str] | tuple[str, ...] = "shortlist") -> list[WeightsEntry]:
    """Registry entries by request: ``"shortlist"`` (:func:`shortlist`), ``"all"``, or registered names."""
    if models == "shortlist":
        return shortlist()
    if models == "all":
        return registry()
    if isinstance(models, str):
        raise ValueError(f"models must be 'shortlist', 'all' or a list of registered names; got {models!r}")
    entries = {e.key: e for e in registry()}
    unknown = [m for m in models if m not in entries]
    if unknown:
        raise KeyError(f"no registered model named {', '.join(unknown)} (see weights/registry.json)")
    return [entries[m] for m in models]


def find_weights(model: str | None = None, space: str | None = None, name: str | None = None) -> WeightsEntry | None:
    """The registered weights called ``name``, or else those trained for ``model`` in ``space`` (either may be
    None: any), the one marked default first, then the first listed; None when there is none."""
    entries = registry()
    if name is not None:
        return next((e for e in entries if e.key == name), None)
    matches = [e for e in entries if (model is None or e.model == model) and (space is None or e.space == space)]
    return next((e for e in matches if e.default), matches[0] if matches else None)


def verify_entry(entry: WeightsEntry) -> Path:
    """The entry's file, after checking that it exists and that its sha256 is the registered one."""
    from .data.fetch import sha256sum

    if not entry.path.is_file():
        raise FileNotFoundError(f"registered weights {entry.key!r} not found: {entry.path}")
    digest = sha256sum(entry.path)
    if digest != entry.sha256:
        raise ValueError(f"{entry.path} has sha256 {digest}, the registry says {entry.sha256}: the file is damaged "
                         "or was replaced")
    return entry.path


def embedding_size_of(state: dict[str, torch.Tensor], architecture: str | None = None) -> int:
    """The embedding size of a backbone's state dict: the length of the architecture's last normalisation
    (``features`` for the iResNets and RTNet; the last layer's for MobileFaceNet); 512 when unknown."""
    key = "features.running_mean"
    if architecture is not None and key not in state:
        from .models import create_model

        with torch.device("meta"):  # the normalisation whose length follows the embedding size
            probe = create_model(architecture, embedding_size=7).state_dict()
        key = next((k for k, v in probe.items() if k.endswith("running_mean") and tuple(v.shape) == (7,)), key)
    return int(state[key].shape[0]) if key in state else 512


def read_state_dict(path: str | Path) -> tuple[dict[str, torch.Tensor], str | None]:
    """``(state_dict, architecture name or None)`` from a safetensors or torch file, without unpickling code."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path.resolve()}")
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                metadata = f.metadata() or {}
                return {key: f.get_tensor(key) for key in f.keys()}, metadata.get("model")
        except Exception as err:  # SafetensorError and friends: say which file
            raise ValueError(f"cannot read weights from {path}: {err}") from None
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # an unpickling refusal or a corrupt file: say which file
        raise ValueError(f"cannot read weights from {path}: {err}") from err
    if isinstance(data, dict) and "state_dict" in data:
        return data["state_dict"], data.get("model")
    if isinstance(data, dict) and all(isinstance(v, torch.Tensor) for v in data.values()):
        return data, None
    raise ValueError(f"{path} is not a state dict (got {type(data).__name__})")


def _signature(state: dict[str, torch.Tensor]) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in state.items()}


def recognise(state: dict[str, torch.Tensor]) -> str | None:
    """The registered architecture whose parameter names and shapes match ``state`` exactly, if any."""
    from .models import MODELS

    signature = _signature(state)
    for name, constructor in MODELS.items():
        with torch.device("meta"):
            candidate = constructor(embedding_size=embedding_size_of(state, name))
        if _signature(candidate.state_dict()) == signature:
            return name
    return None


def load_weights(model: nn.Module, path: str | Path,
                 read: tuple[dict[str, torch.Tensor], str | None] | None = None) -> nn.Module:
    """Load ``path`` into ``model`` (strictly); a file for another architecture is refused by name.
    ``read``: what :func:`read_state_dict` already returned for ``path`` (the file is then not read again)."""
    state, architecture = read if read is not None else read_state_dict(path)
    expected = getattr(model, "name", type(model).__name__)
    if _signature(state) != _signature(model.state_dict()):
        found = architecture or recognise(state) or "an unknown architecture"
        raise ValueError(f"{path} holds weights for {found}, but the model is {expected}")
    if architecture is not None and architecture != expected:
        raise ValueError(f"{path} holds weights for {architecture}, but the model is {expected}")
    model.load_state_dict(state, strict=True)
    return model


def save_weights(model: nn.Module, path: str | Path, half: bool = False, **metadata: str) -> Path:
    """Write ``model``'s state dict as safetensors (with its architecture name) atomically; ``half`` stores
    floating-point tensors as float16 (loading casts them back to the model's dtype). The same weights and
    metadata always give the same bytes (so the same sha256): see :func:`_canonical_safetensors`."""
    from safetensors.torch import save

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"model": getattr(model, "name", type(model).__name__), **metadata}
    state = {key: value.detach().contiguous().cpu() for key, value in model.state_dict().items()}
    if half:
        state = {key: value.half() if value.is_floating_point() else value for key, value in state.items()}
    with atomic_path(path) as tmp:
        tmp.write_bytes(_canonical_safetensors(save(state, metadata=metadata)))
    return path


def _canonical_safetensors(data: bytes) -> bytes:
    """The same file with its JSON header written in sorted key order. safetensors writes the metadata map in
    hash order, which changes from save to save, so identical weights got different sha256s; the tensors'
    byte offsets are relative to the data after the header, so only the header (padded with spaces to a multiple
    of 8 bytes, as the format allows) is rewritten."""
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + data[8 + size:]
