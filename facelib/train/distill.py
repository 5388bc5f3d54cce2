"""Knowledge distillation: a teacher's embeddings of the training faces as the student's targets.

The teacher (OpenCV's SFace, :class:`facelib.peers.SFaceEmbedder`) costs ~20 ms per face on a CPU, so
its embeddings are computed once per training pack for two views of every face, the aligned face and
its mirror image, and cached (``<data_dir>/teachers/<pack digest>-<teacher key>.npy``, written
atomically). Every student run on that pack reuses them. The student sees an augmented warp of the
same view in its own space (RoI jitter, rotation, colour); the target stays the teacher's embedding of
the clean, upright view, which is what makes the student invariant to those changes.

Images whose teacher embedding is far from their identity's mean (cosine below ``min_identity_cosine``:
failed alignments, wrong faces, label noise) are dropped from training; their number is reported.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .._atomic import atomic_path
from ..data.fetch import data_dir
from .data import FaceTrainingSet

log = logging.getLogger(__name__)

TEACHERS = ("sface",)
VIEWS = 2  # the face and its mirror image


def pack_digest(path: str | Path) -> str:
    """A digest of a training pack's index and size (its identity for caches)."""
    path = Path(path)
    if (path / "train.idx").is_file():
        digest = hashlib.sha256((path / "train.idx").read_bytes())
        digest.update(str((path / "train.rec").stat().st_size).encode())
    else:
        digest = hashlib.sha256("\n".join(sorted(str(p.relative_to(path)) for p in path.rglob("*")
                                                 if p.is_file())).encode())
    return digest.hexdigest()[:16]


def teacher_cache(pack: str | Path, key: str, root: str | Path | None = None) -> Path:
    """Where the teacher ``key``'s embeddings of the training pack ``pack`` are cached:
    ``<root>/teachers/<pack digest>-<key>.npy``, ``root`` being the data folder unless given."""
    return (data_dir() if root is None else Path(root)) / "teachers" / f"{pack_digest(pack)}-{key}.npy"


def create_teacher(name: str):
    if name != "sface":
        raise ValueError(f"unknown teacher {name!r}; choose one of {', '.join(TEACHERS)}")
    from ..peers import SFaceEmbedder

    return SFaceEmbedder(flip=False)


def teacher_targets(data: FaceTrainingSet, teacher: str = "sface", progress: bool = True,
                    chunk: int = 256) -> np.ndarray:
    """``(N, 2, D)`` float32 unit-length teacher embeddings of every training face (view 0) and its mirror
    image (view 1), from the cache or computed and cached."""
    model = create_teacher(teacher)
    cache = teacher_cache(data.path, model.key)
    if cache.is_file():
        try:
            targets = np.load(cache, allow_pickle=False)
            if targets.shape[:2] == (len(data), VIEWS) and np.isfinite(targets).all():
                return targets
            log.warning("recomputing %s: shape %s does not fit %d images", cache, targets.shape, len(data))
        except (ValueError, OSError, EOFError) as err:
            log.warning("recomputing the damaged teacher cache %s: %s", cache, err)
    parts = []
    for start in tqdm(range(0, len(data), chunk), desc=f"teacher {teacher}", disable=not progress):
        faces = np.stack([_face(data, k) for k in range(start, min(start + chunk, len(data)))])
        views = [model.embed_faces(faces), model.embed_faces(np.ascontiguousarray(faces[:, :, ::-1]))]
        parts.append(np.stack(views, axis=1).astype(np.float32))
    targets = np.concatenate(parts)
    with atomic_path(cache) as tmp, open(tmp, "wb") as f:
        np.save(f, targets)
    log.info("teacher embeddings cached in %s", cache)
    return targets


def _face(data: FaceTrainingSet, index: int) -> np.ndarray:
    item = data[index]
    if item is None:  # a bad image under on_error='skip': a black face, dropped below as an outlier
        return np.zeros((112, 112, 3), np.uint8)
    return item[0].permute(1, 2, 0).numpy()


def identity_outliers(targets: np.ndarray, labels: np.ndarray, min_identity_cosine: float) -> np.ndarray:
    """Indices of images whose teacher embedding (view 0) has cosine < ``min_identity_cosine`` with the
    normalised mean embedding of its identity."""
    embeddings = torch.from_numpy(targets[:, 0]).double()
    labels_t = torch.from_numpy(np.asarray(labels)).long()
    means = torch.zeros(int(labels_t.max()) + 1, embeddings.shape[1], dtype=torch.float64)
    means.index_add_(0, labels_t, embeddings)
    cosines = (embeddings * F.normalize(means, dim=1)[labels_t]).sum(1)
    return torch.nonzero(cosines < min_identity_cosine).flatten().numpy()


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor, similarity_weight: float = 0.0) -> torch.Tensor:
    """``mean(1 - cos(student, teacher))`` over the batch, plus ``similarity_weight`` times the mean squared
    difference of the in-batch cosine similarity matrices. ``student``, ``teacher``: ``(B, D)``."""
    s, t = F.normalize(student.float(), dim=1), F.normalize(teacher.float(), dim=1)
    loss = (1.0 - (s * t).sum(1)).mean()
    if similarity_weight:
        loss = loss + similarity_weight * ((s @ s.T - t @ t.T) ** 2).mean()
    return loss
