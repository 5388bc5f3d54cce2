"""Training data: an MS1M-layout RecordIO pack or a folder of aligned faces (one sub-folder per identity),
read as ``(3, 112, 112)`` uint8 RGB tensors with integer labels; and the sampler that makes epochs
reproducible and resumable.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..data.folders import identity_folders
from ..data.pack import pack_faces  # noqa: F401 (its old home)
from ..data.recordio import MS1MRecords, RecordError

log = logging.getLogger(__name__)
SIZE = 112


def _decode(data: bytes, where: str) -> np.ndarray:
    """``(112, 112, 3)`` uint8 RGB from encoded bytes. JPEGs decode strictly (simplejpeg): libjpeg only warns on
    corrupt entropy-coded data and returns a garbled face, which would then be trained on; here it is an error
    naming the record. Other formats (PNG) through OpenCV."""
    if data[:2] == b"\xff\xd8":
        import simplejpeg

        try:
            image = simplejpeg.decode_jpeg(data, colorspace="RGB", strict=True)
        except ValueError as err:
            raise RecordError(f"{where}: corrupt JPEG ({len(data)} bytes): {err}") from None
    else:
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
        if bgr is None:
            raise RecordError(f"{where}: undecodable image ({len(data)} bytes)")
        image = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if image.shape[:2] != (SIZE, SIZE):
        image = cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)


class FaceTrainingSet(Dataset):
    """Aligned training faces. ``dataset[i]`` is ``(image (3, 112, 112) uint8, label, i)``, or ``None`` for a
    bad image when ``on_error='skip'`` (the collate function drops it and the loop counts it)."""

    def __init__(self, path: str | Path, on_error: str = "raise") -> None:
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}")
        self.path, self.on_error = Path(path), on_error
        if (self.path / "train.rec").is_file():
            self.records = MS1MRecords(self.path, on_error=on_error)
            self.items = self.records.samples()
            self.num_classes = self.records.num_classes or (max(label for _, label in self.items) + 1)
        elif self.path.is_dir():
            self.records = None
            samples = identity_folders(self.path, "")
            identities = sorted({s.identity for s in samples})
            index = {identity: k for k, identity in enumerate(identities)}
            self.items = [(str(s.path), index[s.identity]) for s in samples]
            self.num_classes = len(identities)
        else:
            raise FileNotFoundError(f"training data not found: {self.path} (an MS1M folder with train.rec, or a "
                                    "folder of aligned faces per identity; see `facelib pack`)")
        if not self.items:
            raise ValueError(f"{self.path} holds no training images")

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        key, label = self.items[index]
        try:
            if self.records is not None:
                image = _decode(self.records.image(key, label), f"{self.path}/train.rec record {key}")
            else:
                image = _decode(Path(key).read_bytes(), key)
        except (RecordError, OSError, KeyError) as err:
            if self.on_error == "raise":
                raise RecordError(str(err)) from None
            log.warning("skipping a bad training image: %s", err)
            return None
        return torch.from_numpy(image).permute(2, 0, 1).contiguous(), label, index


def blend(first: torch.Tensor, second: torch.Tensor, weight: float) -> torch.Tensor:
    """The mixed face ``weight * first + (1 - weight) * second``, rounded to uint8: what the teacher labels and
    the student sees. ``first``, ``second``: uint8 faces of one shape (e.g. ``(3, 112, 112)``)."""
    mixed = weight * first.float() + (1.0 - weight) * second.float()
    return mixed.round_().clamp_(0, 255).to(torch.uint8)


class WithMixedFaces(Dataset):
    """A training set followed by mixed faces: ``dataset[i]`` is ``faces[i]`` for ``i < len(faces)``, and
    ``(blend(faces[a], faces[b], w), -1, i)`` for ``i = len(faces) + k``, ``(a, b)`` and ``w`` being
    ``pairs[k]`` and ``weights[k]`` (label -1: a mixed face has no identity). ``None`` where either face is a
    skipped bad image."""

    def __init__(self, faces: FaceTrainingSet, pairs: np.ndarray, weights: np.ndarray) -> None:
        if len(pairs) != len(weights) or (len(pairs) and (np.min(pairs) < 0 or np.max(pairs) >= len(faces))):
            raise ValueError(f"mixed faces: {len(pairs)} pairs of indices into {len(faces)} faces and "
                             f"{len(weights)} weights do not fit")
        self.faces, self.pairs, self.weights = faces, np.asarray(pairs, np.int64), np.asarray(weights, np.float32)

    def __len__(self) -> int:
        return len(self.faces) + len(self.pairs)

    def __getitem__(self, index: int):
        if index < len(self.faces):
            return self.faces[index]
        k = index - len(self.faces)
        first, second = (self.faces[int(i)] for i in self.pairs[k])
        if first is None or second is None:
            return None
        return blend(first[0], second[0], float(self.weights[k])), -1, index


def collate(batch):
    """Stack ``(image, label, index)`` items, dropping ``None`` (skipped) items; returns images ``(B, 3, 112,
    112)`` uint8, labels ``(B,)``, how many were skipped, and the kept items' dataset indices ``(B,)``."""
    kept = [item for item in batch if item is not None]
    if not kept:
        empty = torch.zeros(0, dtype=torch.long)
        return torch.zeros(0, 3, SIZE, SIZE, dtype=torch.uint8), empty, len(batch), empty
    images = torch.stack([item[0] for item in kept])
    labels = torch.tensor([item[1] for item in kept], dtype=torch.long)
    indices = torch.tensor([item[2] for item in kept], dtype=torch.long)
    return images, labels, len(batch) - len(kept), indices


class EpochBatches:
    """Reproducible, resumable batches for one rank: epoch ``e`` is a permutation drawn from ``seed + e``,
    dealt to ranks in turn (``rank::world``) and cut into full batches (the tail is dropped, so every rank
    runs the same number of equal-sized steps)."""

    def __init__(self, size: int, batch_size: int, seed: int, rank: int = 0, world: int = 1) -> None:
        self.size, self.batch_size, self.seed, self.rank, self.world = size, batch_size, seed, rank, world
        self.per_epoch = (size // world) // batch_size
        if self.per_epoch == 0:
            raise ValueError(f"{size} images cannot fill one batch of {batch_size} on each of {world} processes")

    def epoch(self, epoch: int, start: int = 0) -> list[list[int]]:
        order = torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed + epoch))
        mine = order[self.rank::self.world][: self.per_epoch * self.batch_size].view(self.per_epoch, -1)
        return mine[start:].tolist()
