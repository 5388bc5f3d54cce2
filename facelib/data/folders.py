"""Identity-folder data sets (one folder per person) and the LFW-disjoint training pool.

The pool joins the CelebA-299 subset, CFP (without the identities whose names are also LFW people)
and ORL, the training data available in this project (``../shared/data/README.md``); it reports what
it left out and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cfp import cfp_identities, cfp_root
from .fetch import extract, fetch_file

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm", ".bmp", ".webp"}


@dataclass(frozen=True)
class Sample:
    path: Path
    identity: str  # a name unique across the pool, e.g. "celeba299/1234"


@dataclass
class Pool:
    """Samples with integer labels, and a report of what was included and excluded."""

    samples: list[Sample]
    identities: list[str]
    excluded: dict[str, list[str]] = field(default_factory=dict)  # reason -> identities left out

    def labels(self) -> list[int]:
        index = {identity: k for k, identity in enumerate(self.identities)}
        return [index[s.identity] for s in self.samples]

    def spread(self, identities: int, per_identity: int) -> list[Sample]:
        """A small subset that still spans the pool's sources: every k-th identity (in sorted order, k chosen to
        give ``identities`` of them) with at most ``per_identity`` of its images (notebooks, quick tests)."""
        if identities < 1 or per_identity < 1:
            raise ValueError(f"identities and per_identity must be >= 1; got {identities}, {per_identity}")
        names = sorted({s.identity for s in self.samples})
        chosen = set(names[:: max(len(names) // identities, 1)][:identities])
        taken: dict[str, int] = {}
        subset = []
        for sample in self.samples:
            if sample.identity in chosen and taken.get(sample.identity, 0) < per_identity:
                taken[sample.identity] = taken.get(sample.identity, 0) + 1
                subset.append(sample)
        return subset

    def holdout_samples(self, count: int = 30, seed: int = 0) -> list[Sample]:
        """The faces of the ``count`` identities that a recipe with ``holdout_identities=count`` and ``seed`` keeps
        out of training (:func:`holdout_labels` over this pool's labels, as ``facelib pack pool`` numbers them):
        the faces model selection and threshold calibration use, never trained on."""
        held = {self.identities[k] for k in holdout_labels(np.arange(len(self.identities)), count, seed)}
        return [s for s in self.samples if s.identity in held]

    def report(self) -> str:
        lines = [f"{len(self.samples)} images of {len(self.identities)} identities"]
        lines += [f"excluded {len(names)} identities: {reason}" for reason, names in self.excluded.items()]
        return "\n".join(lines)


def holdout_labels(classes: np.ndarray, count: int, seed: int) -> np.ndarray:
    """The ``count`` labels of ``classes`` (the distinct labels of a training pack) held out for model selection
    with ``seed``: the one draw that training (``Trainer``) and threshold calibration share."""
    return np.random.default_rng(seed).choice(classes, count, replace=False)


def identity_folders(root: str | Path, prefix: str, min_images: int = 1) -> list[Sample]:
    """Every image under ``root/<identity>/`` (recursively), labelled ``prefix/<identity>``."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"identity folder root not found: {root}")
    samples = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        images = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if len(images) >= min_images:
            samples += [Sample(path, f"{prefix}/{folder.name}") for path in images]
    return samples


def _normalise_name(name: str) -> str:
    return name.replace("_", " ").strip().lower()


def training_pool(exclude_names: Iterable[str], sources: tuple[str, ...] = ("celeba299", "cfp", "orl"),
                  progress: bool = True) -> Pool:
    """The identity-disjoint training pool: identities whose name is in ``exclude_names`` are left out.

    Names compare case-insensitively with ``_`` as a space (LFW writes ``George_W_Bush``, CFP
    ``George W Bush``). CelebA identities are disjoint from LFW by construction (CelebFaces+); ORL
    subjects are anonymous.
    """
    excluded_names = {_normalise_name(n) for n in exclude_names}
    samples: list[Sample] = []
    excluded: dict[str, list[str]] = {}
    if "celeba299" in sources:
        root = extract(fetch_file("celeba299/celeba-299.tgz", progress)) / "celeba-299"
        samples += identity_folders(root, "celeba299")
    if "cfp" in sources:
        root = cfp_root(progress)
        names = cfp_identities(root)
        overlap = sorted(folder for folder, name in names.items() if _normalise_name(name) in excluded_names)
        excluded[f"CFP identities whose name is an excluded (evaluation) person ({len(overlap)})"] = [
            f"cfp/{folder} {names[folder]}" for folder in overlap]
        samples += [s for s in identity_folders(root / "Data" / "Images", "cfp")
                    if s.identity.split("/")[1] not in overlap]
    if "orl" in sources:
        root = extract(fetch_file("orl/att_faces.tgz", progress)) / "att_faces"
        samples += identity_folders(root, "orl")
    identities = sorted({s.identity for s in samples})
    return Pool(samples, identities, excluded)
