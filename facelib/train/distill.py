"""Knowledge distillation: a teacher's embeddings of the training faces as the student's targets.

The teacher (OpenCV's SFace, :class:`facelib.peers.SFaceEmbedder`) costs ~20 ms per face on a CPU, so
its embeddings are computed once per training pack for two views of every face, the aligned face and
its mirror image, and cached (``<data_dir>/teachers/<pack digest>-<teacher key>.npy``, written
atomically). Every student run on that pack reuses them. The student sees an augmented warp of the
same view in its own space (RoI jitter, rotation, colour); the target stays the teacher's embedding of
the clean, upright view, which is what makes the student invariant to those changes.

Images whose teacher embedding is far from their identity's mean (cosine below ``min_identity_cosine``:
failed alignments, wrong faces, label noise) are dropped from training; their number is reported.

Mixed faces widen a small pool (``TrainConfig.mixup_faces``): two training faces of different identities
blended pixel by pixel (:func:`facelib.train.data.blend`; aligned faces share their landmarks, so a blend
looks like a new face) are faces the pool does not hold, and the teacher labels them like any other
(Beyer et al. 2021, "a good teacher is patient and consistent", arXiv 2106.05237). They are drawn once
per run from its seed and ``TrainConfig.mixup_draw`` (:func:`mixup_pairs`) and their teacher embeddings
cached like the pool's (:func:`mixup_targets`), so the teacher labels them only once.
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
from .data import FaceTrainingSet, WithMixedFaces

log = logging.getLogger(__name__)

TEACHERS = ("sface",)
VIEWS = 2  # the face and its mirror image
MIXUP_WEIGHTS = (0.2, 0.8)  # a mixed face's share of its first face, drawn uniformly from this range


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


def teacher_init_weights(cache: str | Path | None = None) -> Path:
    """The SFace teacher's own weights as a facelib safetensors file for :class:`facelib.models.sfacenet.SFaceNet`
    (what ``init_weights="sface"`` of a ``sfacenet`` run loads): converted once from the teacher's ONNX file and
    cached beside its embeddings (``<data_dir>/teachers/sfacenet-<ONNX sha256>.safetensors``), written
    atomically."""
    from ..models.sfacenet import SFaceNet, sface_onnx_path, sface_state_dict
    from ..weights import save_weights

    onnx_path = sface_onnx_path()
    digest = hashlib.sha256(onnx_path.read_bytes()).hexdigest()[:16]
    path = Path(cache) if cache is not None else data_dir() / "teachers" / f"sfacenet-{digest}.safetensors"
    if not path.is_file():
        model = SFaceNet(embedding_size=128)
        model.load_state_dict(sface_state_dict(onnx_path), strict=True)
        model.name = "sfacenet"
        save_weights(model, path, source=f"SFace ONNX {onnx_path.name} sha256 {digest}")
    return path


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
    return _cached_views(teacher_cache(data.path, model.key), model, len(data), lambda k: _face(data, k),
                         f"teacher {teacher}", progress, chunk)


def mixup_pairs(indices: np.ndarray, labels: np.ndarray, count: int, seed: int,
                draw: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` mixed faces drawn from the training faces ``indices`` (pack indices; ``labels`` per pack face):
    ``pairs`` ``(count, 2)`` int64 pack indices of two faces of different identities, and ``weights``
    ``(count,)`` float32, the first face's share, uniform in :data:`MIXUP_WEIGHTS`. The same arguments give
    the same draw; another ``draw`` (>= 0) gives another, independent one, so a run can see fresh blends
    without changing the seed, which also picks the held-out identities. Draw 0 is the first draw of every run
    before ``draw`` existed, so its cached teacher labels stay valid."""
    if draw < 0:
        raise ValueError(f"mixup draw must be >= 0; got {draw!r}")
    indices, labels = np.asarray(indices, np.int64), np.asarray(labels)
    if len(np.unique(labels[indices])) < 2:
        raise ValueError(f"mixup needs training faces of at least two identities; got {len(indices)} face(s) of "
                         f"{len(np.unique(labels[indices]))}")
    rng = np.random.default_rng([seed, count] + ([draw] if draw else []))
    pairs = np.zeros((0, 2), np.int64)
    while len(pairs) < count:  # redraw the pairs that fell on one identity
        picked = indices[rng.integers(0, len(indices), (2 * (count - len(pairs)) + 16, 2))]
        pairs = np.concatenate([pairs, picked[labels[picked[:, 0]] != labels[picked[:, 1]]]])[:count]
    weights = rng.uniform(*MIXUP_WEIGHTS, count).astype(np.float32)
    return pairs, weights


def mixup_targets(data: FaceTrainingSet, pairs: np.ndarray, weights: np.ndarray, teacher: str = "sface",
                  progress: bool = True, chunk: int = 256) -> np.ndarray:
    """``(M, 2, D)`` float32 teacher embeddings of the mixed faces ``blend(data[a], data[b], w)`` for each pair
    ``(a, b)`` and weight ``w`` (view 0) and of their mirror images (view 1), from the cache or computed and
    cached. The cache is keyed by the pack, the teacher and a digest of the pairs and weights."""
    model = create_teacher(teacher)
    pairs, weights = np.ascontiguousarray(pairs, np.int64), np.ascontiguousarray(weights, np.float32)
    digest = hashlib.sha256(pairs.tobytes() + weights.tobytes()).hexdigest()[:16]

    mixed = WithMixedFaces(data, pairs, weights)  # the very faces the training loop draws
    return _cached_views(teacher_cache(data.path, f"{model.key}-mixup-{digest}"), model, len(pairs),
                         lambda k: _face(mixed, len(data) + k), f"teacher {teacher}, mixed faces", progress, chunk)


def _cached_views(cache: Path, model, count: int, face, desc: str, progress: bool, chunk: int) -> np.ndarray:
    """``(count, 2, D)`` teacher embeddings of ``face(k)`` (``(112, 112, 3)`` uint8) and its mirror image, read
    from ``cache`` when it holds them, else computed and written there atomically."""
    if cache.is_file():
        try:
            targets = np.load(cache, allow_pickle=False)
            if targets.shape[:2] == (count, VIEWS) and np.isfinite(targets).all():
                return targets
            log.warning("recomputing %s: shape %s does not fit %d images", cache, targets.shape, count)
        except (ValueError, OSError, EOFError) as err:
            log.warning("recomputing the damaged teacher cache %s: %s", cache, err)
    parts = []
    for start in tqdm(range(0, count, chunk), desc=desc, disable=not progress):
        faces = np.stack([face(k) for k in range(start, min(start + chunk, count))])
        views = [model.embed_faces(faces), model.embed_faces(np.ascontiguousarray(faces[:, :, ::-1]))]
        parts.append(np.stack(views, axis=1).astype(np.float32))
    targets = np.concatenate(parts)
    with atomic_path(cache) as tmp, open(tmp, "wb") as f:
        np.save(f, targets)
    log.info("teacher embeddings cached in %s", cache)
    return targets


def _face(data: FaceTrainingSet | WithMixedFaces, index: int) -> np.ndarray:
    item = data[index]
    if item is None:  # a bad image under on_error='skip': a black face (an outlier; the loop skips such a mix)
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
