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
import warnings
from dataclasses import MISSING, asdict, dataclass, fields
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


REGISTRY_VERSION = 2


class RegistryError(ValueError):
    """``weights/registry.json`` is malformed: an unknown field, a path outside the weights folder, no default."""


@dataclass(frozen=True)
class WeightsEntry:
    """One shipped model of the zoo (``weights/registry.json``; the figures measured on it are in
    ``weights/results.json``).

    Names follow timm and open_clip: ``architecture_space.recipe`` (``mobilefacenet_roi_tanh_polar.distill_pool``);
    a name is stable across releases, and a model file changes only when a successor beats it on the held-out rule.
    """

    name: str  # how users ask for it (``--weights NAME``, ``FaceEmbedder(NAME)``)
    file: str  # relative to the weights folder
    model: str  # architecture (``facelib.models.create_model`` name)
    space: str  # warping space it was trained in
    sha256: str
    training_data: str
    lfw_disjoint: bool  # every identity it (and its initialisation) trained on is outside LFW
    threshold: float  # squared L2 distance between normalised flip-summed embeddings: below it, the same person
    threshold_rule: str  # how ``threshold`` was calibrated (never on a test set)
    embedding_size: int = 512
    card: str = ""  # the model card, relative to the weights folder
    recipe: str = ""  # the one-run recipe that reproduces it, relative to the repository
    holdout_cosine: float | None = None  # student-teacher cosine on held-out pool identities: the selection rule
    max_rotation: float | None = None  # radians of in-plane rotation training augmented with (pi: rotation-robust)
    subset_accuracy: float = 0.0  # LFW accuracy (%) on the balanced CHECK_PAIRS subset that CI re-checks
    precision: str = "bf16"  # what subset_accuracy was computed in
    former_names: tuple[str, ...] = ()  # earlier names of these very weights (deprecated aliases)
    replaces: tuple[str, ...] = ()  # earlier segments of its training chain (deprecated aliases; other weights)
    default: bool = False  # set from the registry's ``default`` (a person's decision), never stored per entry

    @property
    def rotation_robust(self) -> bool:
        """Trained with rotations of a quarter turn or more (the ``*_rot`` recipes use the full circle)."""
        return self.max_rotation is not None and self.max_rotation >= math.pi / 2

    @property
    def key(self) -> str:
        return self.name

    @property
    def path(self) -> Path:
        return _inside(weights_dir(), self.file, f"{self.name}: file")

    @property
    def card_path(self) -> Path:
        return _inside(weights_dir(), self.card, f"{self.name}: card")


def _inside(folder: Path, relative: str, what: str) -> Path:
    """``folder / relative``, refused unless it stays inside ``folder`` (no absolute paths, no ``..`` escapes)."""
    if not relative or Path(relative).is_absolute():
        raise RegistryError(f"{what} {relative!r} must be a path relative to {folder}")
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder.resolve()):
        raise RegistryError(f"{what} {relative!r} points outside {folder}")
    return path


@dataclass(frozen=True)
class Registry:
    """The zoo: its release, its models, and the default chosen by a person (with the reason)."""

    release: str
    default: str
    default_reason: str
    models: tuple[WeightsEntry, ...]

    def names(self) -> list[str]:
        return [e.name for e in self.models]


_ENTRY_FIELDS = {f.name for f in fields(WeightsEntry)} - {"default"}
_TOP_FIELDS = {"version", "release", "default", "default_reason", "models"}


def read_registry(path: str | Path | None = None) -> Registry:
    """The registry at ``path`` (default: the weights folder's ``registry.json``), validated: unknown fields, a
    default that is not a model, paths outside the weights folder and duplicate names are refused by name."""
    path = Path(path) if path is not None else weights_dir() / "registry.json"
    if not path.is_file():
        return Registry("", "", "", ())
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise RegistryError(f"{path} is not valid JSON: {err}") from None
    version = data.get("version") if isinstance(data, dict) else None
    if version != REGISTRY_VERSION:
        raise RegistryError(f"{path}: expected a version {REGISTRY_VERSION} registry (an object with "
                            f"'version': {REGISTRY_VERSION}); got version {version!r}")
    unknown = sorted(set(data) - _TOP_FIELDS)
    if unknown:
        raise RegistryError(f"{path}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_TOP_FIELDS))}")
    entries = []
    for raw in data.get("models", []):
        unknown = sorted(set(raw) - _ENTRY_FIELDS)
        if unknown:
            raise RegistryError(f"{path}: model {raw.get('name', '?')!r} has unknown field(s) {', '.join(unknown)}")
        missing = sorted(f.name for f in fields(WeightsEntry) if f.default is MISSING and f.name not in raw)
        if missing:
            raise RegistryError(f"{path}: model {raw.get('name', '?')!r} lacks {', '.join(missing)}")
        raw = raw | {key: tuple(raw.get(key, ())) for key in ("former_names", "replaces")}
        entry = WeightsEntry(**raw, default=raw["name"] == data.get("default"))
        _inside(path.parent, entry.file, f"{entry.name}: file")  # confined to the weights folder, or refused
        if entry.card:
            _inside(path.parent, entry.card, f"{entry.name}: card")
        entries.append(entry)
    names = [e.name for e in entries]
    aliases = [a for e in entries for a in (*e.former_names, *e.replaces)]
    clash = sorted({n for n in names + aliases if (names + aliases).count(n) > 1})
    if clash:
        raise RegistryError(f"{path}: the name(s) {', '.join(clash)} appear more than once (names and aliases)")
    if entries and data.get("default") not in names:
        raise RegistryError(f"{path}: the default {data.get('default')!r} is not one of the models "
                            f"({', '.join(names)})")
    return Registry(str(data.get("release", "")), str(data.get("default", "")), str(data.get("default_reason", "")),
                    tuple(entries))


def write_registry_file(reg: Registry, path: str | Path | None = None) -> Path:
    """Write ``reg`` as ``registry.json`` atomically (the inverse of :func:`read_registry`)."""
    path = Path(path) if path is not None else weights_dir() / "registry.json"
    models = []
    for e in reg.models:
        row = asdict(e)
        row.pop("default")
        row["former_names"], row["replaces"] = list(e.former_names), list(e.replaces)
        models.append(row)
    data = {"version": REGISTRY_VERSION, "release": reg.release, "default": reg.default,
            "default_reason": reg.default_reason, "models": models}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1) + "\n")
    return path


def registry() -> list[WeightsEntry]:
    """The shipped models of ``weights/registry.json`` in its order (empty when there is none)."""
    return list(read_registry().models)


def default_entry() -> WeightsEntry | None:
    """The model ``facelib verify`` and ``FaceEmbedder()`` use when none is named (None without a registry)."""
    return next((e for e in registry() if e.default), None)


SPACES_MODEL = "mobilefacenet"  # the architecture every warping space was trained in by one recipe


def space_picks(entries: list[WeightsEntry] | None = None) -> list[WeightsEntry]:
    """The upright :data:`SPACES_MODEL` of every warping space, in the registry's order: the members of the
    default space ensemble (``facelib evaluate --ensemble``) and the models the warp-ceiling table names. Other
    architectures (the teacher-initialised ``sfacenet`` row) are separate rows, not part of the one-recipe
    comparison of spaces."""
    entries = registry() if entries is None else entries
    return [e for e in entries if e.model == SPACES_MODEL and not e.rotation_robust]


def select_models(models: str | list[str] | tuple[str, ...] = "all") -> list[WeightsEntry]:
    """Registry entries by request: ``"all"`` (the zoo, in its order) or a list of names (aliases resolve as in
    :func:`resolve_name`)."""
    if models == "all":
        return registry()
    if isinstance(models, str):
        raise ValueError(f"models must be 'all' or a list of model names; got {models!r}")
    return [resolve_name(m) for m in models]


class UnknownModelError(LookupError):
    """A model name that is neither shipped nor a former name; the message lists the known ones, closest first."""


def known_names_message(name: str, entries: list[WeightsEntry] | None = None) -> str:
    """``no such model 'X'; known: ...`` with the shipped names, the closest to ``name`` first."""
    import difflib

    names = [e.name for e in (registry() if entries is None else entries)]
    close = difflib.get_close_matches(name, names, n=len(names), cutoff=0.0)
    return f"no such model {name!r}; known: {', '.join(close or names) or 'none (no registry)'}"


def resolve_name(name: str, warn: bool = True) -> WeightsEntry:
    """The shipped model called ``name``. A former name of the same weights, or of an earlier segment of its
    training chain, resolves to it with a ``FutureWarning`` (aliases last one release); anything else raises
    :class:`UnknownModelError` listing the known names, closest first."""
    entries = registry()
    for e in entries:
        if e.name == name:
            return e
    for e in entries:
        if name in e.former_names:
            if warn:
                warnings.warn(f"{name!r} is now called {e.name!r}: the same weights; the old name goes in the next "
                              "release", FutureWarning, stacklevel=3)
            return e
        if name in e.replaces:
            if warn:
                warnings.warn(f"{name!r} was an earlier training segment of {e.name!r} and is no longer shipped; "
                              f"loading {e.name!r}, whose embeddings differ (compute stored embeddings again); the "
                              "old name goes in the next release", FutureWarning, stacklevel=3)
            return e
    raise UnknownModelError(known_names_message(name, entries))


def find_weights(model: str | None = None, space: str | None = None, name: str | None = None) -> WeightsEntry | None:
    """The shipped model called ``name`` (or a former name, with a warning); else the one for ``model`` in
    ``space`` (either may be None: any): the default when it matches, else the first upright (not
    rotation-robust) match in the registry's order, else any match; None when there is none."""
    if name is not None:
        try:
            return resolve_name(name)
        except UnknownModelError:
            return None
    matches = [e for e in registry() if (model is None or e.model == model) and (space is None or e.space == space)]
    upright = [e for e in matches if not e.rotation_robust]
    return next((e for e in matches if e.default), (upright or matches or [None])[0])


def entry_for_file(path: str | Path, digest: str | None = None) -> WeightsEntry | None:
    """The shipped model whose sha256 is that of the file at ``path`` (``digest``, when already computed); None
    when it is none of them."""
    from .data.fetch import sha256sum

    digest = digest or sha256sum(Path(path))
    return next((e for e in registry() if e.sha256 == digest), None)


def file_metadata(path: str | Path) -> dict[str, str]:
    """The string metadata of a safetensors file (``model``, ``space``, ``threshold``, ...); ``{}`` for other
    formats or none."""
    path = Path(path)
    if path.suffix != ".safetensors":
        return {}
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            return dict(f.metadata() or {})
    except Exception as err:  # SafetensorError and friends: say which file
        raise ValueError(f"cannot read weights from {path}: {err}") from None


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
    except Exception as err:  # an unpickling refusal or a corrupt file: say which file, in one line
        raise ValueError(f"cannot read weights from {path}: {unpickling_refusal(err)}") from None
    if isinstance(data, dict) and "state_dict" in data:
        return data["state_dict"], data.get("model")
    if isinstance(data, dict) and all(isinstance(v, torch.Tensor) for v in data.values()):
        return data, None
    raise ValueError(f"{path} is not a state dict (got {type(data).__name__})")


def unpickling_refusal(err: BaseException) -> str:
    """One plain line for why ``torch.load(..., weights_only=True)`` refused a file: the global it would not
    unpickle, when that is the reason (torch's own message carries terminal colours and advice to load with
    ``weights_only=False``, which would run the file's code), else the error's first line."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err))
    found = re.search(r"(?:Unsupported global: GLOBAL|unsupported GLOBAL) ([\w.]+)", text)
    if found:
        return f"it asks to unpickle {found.group(1)}, which a weights file never needs; refused"
    if "Weights only load failed" in text:
        return "it holds objects other than tensors, which a weights file never needs; refused"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return f"{type(err).__name__}: {first[:200]}"


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
