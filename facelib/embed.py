"""The embedding predictor: aligned faces or raw photos in, L2-normalised embeddings out.

Pipeline (as ``ibug.face_embedding``): an aligned 112x112 RGB face, optionally with its mirror image
(flip test), is warped into the model's space around the central 80% of the crop
(:data:`ALIGNED_ROI`, ``keep_aspect_ratio=True``), scaled to ``[-1, 1]`` and embedded; the two
embeddings are summed and L2-normalised. From raw photos the face is first detected and aligned to
the ArcFace template with its 5 landmarks (or, with ``align=False``, cropped square around its box).

Two embeddings ``a, b`` compare by the squared L2 distance ``d = |a - b|^2 = 2 - 2 cos(a, b)``: a
distance threshold ``d`` and a cosine-similarity threshold ``c`` are the same decision when
``d = 2 - 2c``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .align import ALIGNED_SIZE, detect_and_align
from .data.fetch import sha256sum
from .data.images import load_image
from .detect import (
    DEFAULT_DETECTOR,
    DEFAULT_ORIENTATION,
    FACE_CHOICES,
    ORIENTATIONS,
    FaceDetector,
    NoFaceError,
    create_detector,
)
from .models import ALIGNED_ROI, create_model, input_spec, model_input  # noqa: F401 (ALIGNED_ROI re-exported)
from .warp import SPACES
from .weights import (
    WeightsEntry,
    embedding_size_of,
    entry_for_file,
    file_metadata,
    find_weights,
    load_weights,
    read_state_dict,
    resolve_name,
    verify_entry,
)

log = logging.getLogger(__name__)

FALLBACK_MODEL = "iresnet18"  # what FaceEmbedder() builds (untrained) while no weights are registered
DEFAULT_THRESHOLD = 1.0  # squared L2 (cosine 0.5); used only when no trained weights give one


def distance_to_cosine(distance: float) -> float:
    """Squared L2 distance between unit vectors to cosine similarity: ``c = 1 - d / 2``."""
    return 1.0 - distance / 2.0


def cosine_to_distance(cosine: float) -> float:
    """Cosine similarity to squared L2 distance between unit vectors: ``d = 2 - 2c``."""
    return 2.0 - 2.0 * cosine


@dataclass(frozen=True)
class PhotoEmbedding:
    """The embedding of the face chosen in one photo, and how it was found."""

    embedding: np.ndarray  # (D,) float32, unit length
    box: np.ndarray  # (4,) x1, y1, x2, y2 of the face used
    landmarks: np.ndarray  # (5, 2)
    faces: int  # how many faces the detector found
    index: int  # which of them was used (by the embedder's ``face_choice`` rule)
    face: np.ndarray  # (112, 112, 3) uint8, the aligned (or cropped) face that was embedded
    score: float = 0.0  # the detector's score of that face
    weak: bool = False  # no face passed the confidence rule: the most confident weak one was used
    roll: float = 0.0  # its in-plane angle in the photo, degrees counter-clockwise on screen


class FaceEmbedder:
    """Embed faces with a backbone trained in a warping space.

    It is an embedder of the verification pipeline (:class:`facelib.verification.Embedder`: ``key`` and
    :meth:`embed_faces`), as the peers of :mod:`facelib.peers` are. ``key`` names model, space, weights
    (sha256), flip and precision for the embedding caches; an embedder without weights is the random
    initialisation of seed 0 (reproducible, ``trained`` False).

    Args:
        model: a name from :func:`facelib.models.list_models`; with ``space`` and ``weights`` all None, the
            zoo's default model (``weights/registry.json``, chosen by people, changed only in a release).
        space: the warping space the model was trained in (``rtnet50`` needs ``roi_tanh_polar``).
        weights: a shipped model's name (``facelib models``; architecture and space come with it, a former
            name warns) or a weights file (a shipped one is recognised by its sha256; another takes model,
            space and threshold from its metadata, else from ``model`` and ``space``). ``None`` uses the
            shipped upright model for ``(model, space)`` if any, else keeps the random initialisation
            (``trained`` is then False: embeddings mean nothing). An unknown name lists the known ones.
        device: torch device.
        flip: add the embedding of the mirrored face (the ArcFace evaluation protocol).
        detector: used by :meth:`embed_photo`; a name or a :class:`FaceDetector` (built on first use).
        batch_size: faces per forward pass.
        face_choice: which face of a photo with several :meth:`embed_photo` uses: ``"largest"`` (default,
            for arbitrary photos) or ``"centre"`` (photos made around their subject, as benchmark data).
        precision: ``"fp32"``, ``"bf16"`` (autocast) or ``"auto"`` (bf16 on CPUs with native bf16 units,
            where it is ~4x faster; fp32 elsewhere). Embeddings differ by ~1e-3 in cosine. Both run in
            channels-last memory layout (in fp32 MobileFaceNet 1.8-2.6x, iResNet-18 1.6x faster than NCHW on a
            2-core AMD EPYC, the same numbers to ~1e-6: ``python benchmarks/models.py``).
        orientation: how :meth:`embed_photo` searches a photo: ``"any"`` (default: faces at any in-plane angle; an
            upright photo costs one detector run, a turned one ~5x; ``benchmarks/photo_rotation.py``) or
            ``"upright"`` (:data:`facelib.detect.ORIENTATIONS`).

    Example:
        >>> import numpy as np
        >>> embedder = FaceEmbedder("mobilefacenet", "roi_tanh_polar")  # the shipped upright model of that space
        >>> embedder.name
        'mobilefacenet_roi_tanh_polar.distill_pool'
        >>> embedder.embed(np.zeros((2, 112, 112, 3), np.uint8)).shape  # aligned faces in, unit vectors out
        torch.Size([2, 128])
    """

    def __init__(self, model: str | None = None, space: str | None = None, weights: str | Path | None = None,
                 device: str | torch.device = "cpu", flip: bool = True, detector: str | FaceDetector = DEFAULT_DETECTOR,
                 batch_size: int = 64, face_choice: str = "largest", precision: str = "fp32",
                 orientation: str = DEFAULT_ORIENTATION) -> None:
        device = checked_device(device)
        self.precision = resolve_precision(precision, device)
        self.entry: WeightsEntry | None = None
        self.file_threshold: float | None = None  # a threshold recorded in an unregistered file's metadata
        self._file_digest: str | None = None  # sha256 of a weights file given by path (hashed once)
        if weights is not None:
            model, space, weights = self._resolve_weights(weights, model, space)
        elif model is None or space is None:  # the shipped model for model and space (the default if neither)
            found = find_weights(model, space)
            if found is not None:
                self.entry = found
                model, space, weights = found.model, found.space, found.path
            else:
                model, space = model or FALLBACK_MODEL, space or "cartesian"
        else:
            self.entry = find_weights(model, space)
            weights = self.entry.path if self.entry is not None else None
        if face_choice not in FACE_CHOICES:
            raise ValueError(f"unknown face choice {face_choice!r}; choose one of {', '.join(FACE_CHOICES)}")
        self.face_choice = face_choice
        if orientation not in ORIENTATIONS:
            raise ValueError(f"unknown orientation {orientation!r}; choose one of {', '.join(ORIENTATIONS)}")
        self.orientation = orientation
        if space not in SPACES:
            raise ValueError(f"unknown warping space {space!r}; choose one of {', '.join(SPACES)}")
        self.spec = input_spec(model)
        if space not in self.spec.spaces:
            raise ValueError(f"{model} works on {', '.join(self.spec.spaces)} faces; got space {space!r}")
        self.model_name, self.space, self.flip, self.batch_size = model, space, flip, batch_size
        self.device = torch.device(device)
        embedding_size, read, digest = 512, None, "random-seed0"
        if self.entry is not None:
            if self._file_digest != self.entry.sha256:  # a file given by path was matched by this very hash
                verify_entry(self.entry)
            embedding_size, digest = self.entry.embedding_size, self.entry.sha256
        elif weights is not None:
            read = read_state_dict(weights)  # once: for the embedding size and the weights themselves
            embedding_size, digest = embedding_size_of(read[0], model), self._file_digest or sha256sum(Path(weights))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)  # without weights, a reproducible random initialisation (and embedding cache)
            self.net = create_model(model, embedding_size)
        if weights is not None:
            load_weights(self.net, weights, read)
        self.weights = Path(weights) if weights is not None else None
        self.trained = weights is not None
        if not self.trained:
            log.warning("no trained weights for %s in %s space: using a random initialisation", model, space)
        precision_tag = "" if self.precision == "fp32" else f"-{self.precision}"
        self.key: str | None = (f"{model}-{space}-{digest[:16]}-{'flip' if flip else 'noflip'}{precision_tag}")
        self.net.eval().to(self.device)
        self._detector = detector

    @classmethod
    def from_module(cls, net: torch.nn.Module, model: str, space: str, device: str | torch.device = "cpu",
                    flip: bool = True, batch_size: int = 64) -> FaceEmbedder:
        """An embedder around a model in memory (e.g. one being trained), left in its current mode."""
        embedder = cls.__new__(cls)
        embedder.model_name, embedder.space, embedder.flip, embedder.batch_size = model, space, flip, batch_size
        embedder.device, embedder.net, embedder.entry = torch.device(device), net, None
        embedder.file_threshold = None
        embedder.spec = input_spec(model)
        embedder.weights, embedder.trained, embedder._detector = None, True, DEFAULT_DETECTOR
        embedder.face_choice, embedder.precision, embedder.orientation = "largest", "fp32", DEFAULT_ORIENTATION
        embedder.key = None  # weights that change while training: never cached
        return embedder

    def _resolve_weights(self, weights: str | Path, model: str | None, space: str | None
                         ) -> tuple[str, str, Path]:
        """``(model, space, file)`` for ``weights``: a shipped name (or a former one, with a warning), or a file.
        A file that is a shipped model (same sha256) is that model; any other takes its architecture, space and
        threshold from its metadata, or from ``model`` and ``space``. Sets :attr:`entry` / :attr:`file_threshold`."""
        path = Path(weights)
        if not path.is_file():
            if path.suffix in (".safetensors", ".pt", ".pth", ".bin") or len(path.parts) > 1:
                raise FileNotFoundError(f"weights file not found: {path}")
            self.entry = resolve_name(str(weights))
            path = self.entry.path
            found_model, found_space = self.entry.model, self.entry.space
        else:
            self._file_digest = sha256sum(path)
            self.entry = entry_for_file(path, self._file_digest)
            if self.entry is not None:
                found_model, found_space = self.entry.model, self.entry.space
            else:
                metadata = file_metadata(path)
                found_model, found_space = metadata.get("model"), metadata.get("space")
                if "threshold" in metadata:
                    try:
                        self.file_threshold = float(metadata["threshold"])
                    except ValueError:
                        raise ValueError(f"{path}: its metadata threshold {metadata['threshold']!r} is not a "
                                         "number") from None
        for what, given, found in (("model", model, found_model), ("space", space, found_space)):
            if given is not None and found is not None and given != found:
                raise ValueError(f"{weights} is a {found_model} trained in the {found_space} space; "
                                 f"--{what} {given} contradicts it")
        model, space = model or found_model, space or found_space
        if model is None or space is None:
            raise ValueError(f"{path} records no {'model' if model is None else 'space'} in its metadata: give the "
                             "model and space it was trained as (--model, --space)")
        return model, space, path

    @property
    def name(self) -> str:
        """The shipped model's name, or the weights file, or ``random-init`` (what ``verify`` reports)."""
        if self.entry is not None:
            return self.entry.name
        return str(self.weights) if self.weights is not None else "random-init"

    @property
    def threshold_known(self) -> bool:
        """Whether the weights come with a calibrated threshold (a shipped model, or a file's metadata)."""
        return self.entry is not None or self.file_threshold is not None

    @property
    def threshold(self) -> float:
        """The squared-L2 decision threshold of the loaded weights: the shipped model's calibrated one, a file's
        recorded one, else ``DEFAULT_THRESHOLD`` (see :attr:`threshold_known`)."""
        if self.entry is not None:
            return self.entry.threshold
        return self.file_threshold if self.file_threshold is not None else DEFAULT_THRESHOLD

    @property
    def detector(self) -> FaceDetector:
        if isinstance(self._detector, str):
            self._detector = create_detector(self._detector, device=str(self.device))
        return self._detector

    def _as_tensor(self, faces) -> torch.Tensor:
        if isinstance(faces, torch.Tensor):
            batch = faces
            if batch.dim() == 3:
                batch = batch[None]
            if not batch.is_floating_point():
                raise ValueError(f"face tensors must be float in [0, 1]; got {batch.dtype}")
        else:
            array = np.asarray(faces) if not isinstance(faces, (list, tuple)) else np.stack(faces)
            if array.ndim == 3:
                array = array[None]
            if array.ndim != 4 or array.shape[-1] != 3:
                raise ValueError(f"faces must be (112, 112, 3) uint8 RGB images or a (B, 112, 112, 3) stack; "
                                 f"got shape {array.shape}")
            batch = torch.from_numpy(np.ascontiguousarray(array)).permute(0, 3, 1, 2).float() / 255.0
        if batch.dim() != 4 or batch.shape[1:] != (3, ALIGNED_SIZE, ALIGNED_SIZE):
            raise ValueError(f"faces must be (B, 3, 112, 112) aligned crops; got shape {tuple(batch.shape)}")
        return batch

    @torch.no_grad()
    def embed(self, faces) -> torch.Tensor:
        """Embeddings ``(B, D)`` (float32, unit length, on the CPU) of aligned faces.

        ``faces``: ``(B, 3, 112, 112)`` float tensor in ``[0, 1]``, or ``(B, 112, 112, 3)`` /
        ``(112, 112, 3)`` uint8 RGB arrays (or a list of them).
        """
        batch = self._as_tensor(faces)
        if not len(batch):
            raise ValueError("no faces to embed: got an empty batch")
        outputs = [self._forward(batch[start:start + self.batch_size].to(self.device))
                   for start in range(0, len(batch), self.batch_size)]
        return torch.cat(outputs).cpu()

    def _forward(self, faces: torch.Tensor) -> torch.Tensor:
        views = torch.cat((faces, faces.flip(-1))) if self.flip else faces
        x, rois = model_input(views, self.spec, self.space)
        bf16 = self.precision == "bf16"
        x = x.contiguous(memory_format=torch.channels_last)  # faster on CPU in fp32 too (benchmarks/models.py)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=bf16):
            embeddings = self.net(x, rois) if rois is not None else self.net(x)
        embeddings = embeddings.float()
        if self.flip:
            embeddings = embeddings[: len(faces)] + embeddings[len(faces):]
        return F.normalize(embeddings, dim=1)

    def embed_faces(self, faces: np.ndarray) -> np.ndarray:
        """The embedder protocol of :mod:`facelib.verification`: ``(B, 112, 112, 3)`` uint8 aligned faces to
        ``(B, D)`` float32 unit-length embeddings (as :meth:`embed`, as NumPy)."""
        return self.embed(faces).numpy()

    def embed_photo(self, photo: str | Path | np.ndarray, align: bool = True) -> PhotoEmbedding:
        """Detect (in ``orientation``), choose (``face_choice``, among faces that pass the confidence rule),
        align (or, ``align=False``, crop around the box: the box-only path), warp and embed one face of a photo (a
        path or an ``(H, W, 3)`` uint8 RGB array).

        Grayscale and RGBA files are converted to RGB. Raises ``FileNotFoundError`` / ``ValueError`` for
        unreadable files and :class:`NoFaceError` (naming the file) when no face is found.
        """
        image = load_image(photo) if isinstance(photo, (str, Path)) else np.asarray(photo)
        try:
            found = detect_and_align(image, self.detector, self.face_choice, align=align,
                                     orientation=self.orientation, confident=True)
        except NoFaceError as err:
            raise NoFaceError(f"{photo}: {err}" if isinstance(photo, (str, Path)) else str(err)) from None
        embedding = self.embed(found.face)[0].numpy()
        return PhotoEmbedding(embedding, found.box, found.landmarks, found.faces, found.index, found.face,
                              found.score, found.weak, found.roll)


def checked_device(device: str | torch.device) -> torch.device:
    """``device`` as a torch device, refused in one line naming it when this machine does not have it (torch
    itself fails only at first use, deep inside a forward pass)."""
    try:
        found = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"unknown device {device!r}: {str(err).splitlines()[0]}") from None
    if found.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (found.index or 0) >= count:
            raise ValueError(f"device {str(device)!r}: this machine has {count} CUDA device(s); use 'cpu'"
                             + (f" or one of cuda:0..cuda:{count - 1}" if count else ""))
    return found


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AMX or AVX512-BF16 in ``/proc/cpuinfo``)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


#: The arithmetic a facelib model can run in: float32, bf16 autocast, or bf16 where the CPU computes it natively.
PRECISIONS = ("fp32", "bf16", "auto")


def resolve_precision(precision: str, device: torch.device) -> str:
    """``fp32`` or ``bf16`` for ``precision`` (one of :data:`PRECISIONS`) on ``device``."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    if precision != "auto":
        return precision
    return "bf16" if device.type == "cpu" and cpu_has_fast_bf16() else "fp32"


def squared_distance(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> float:
    """``|a - b|^2`` of two embeddings."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(((a - b) ** 2).sum())
