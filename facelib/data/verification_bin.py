"""insightface verification ``.bin`` files (``lfw.bin``, ``cfp_fp.bin``, ...): write, and read safely.

The format is a pickle of ``(images, issame)``: ``images`` a list of ``2N`` encoded images (JPEG or
PNG bytes), pair ``k`` being images ``2k`` and ``2k + 1``, and ``issame`` a list of ``N`` booleans.
Pickles can run arbitrary code when loaded, so :func:`read_bin` uses an unpickler that resolves no
global names at all: only lists, tuples, bytes, booleans and numbers can come out, and anything else
in the file is refused with an error naming it.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from .._atomic import atomic_path


class UnsafePickleError(pickle.UnpicklingError):
    """The file asked for a Python object other than plain data."""


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """What protocol-2 pickles written by Python 3 call to rebuild ``bytes`` (``_codecs.encode``), and nothing else."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"refusing _codecs.encode({type(text).__name__}, {encoding!r}): only latin1 text "
                                "that rebuilds bytes is allowed")
    return text.encode("latin1")


class _PlainDataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) == ("_codecs", "encode"):  # the one safe global: bytes in protocol-2 pickles
            return _latin1_bytes
        raise UnsafePickleError(f"refusing to load {module}.{name}: a verification .bin holds only lists of "
                                "bytes and booleans")


def write_bin(path: str | Path, images: Sequence[np.ndarray], issame: Sequence[bool], quality: int = 95) -> Path:
    """Write ``(B, H, W, 3)`` uint8 RGB images (pairs in order) and their labels as an insightface ``.bin``.

    Written atomically (temporary file, then rename).
    """
    if len(images) != 2 * len(issame):
        raise ValueError(f"need 2 images per pair: got {len(images)} images for {len(issame)} pairs")
    encoded = []
    for k, image in enumerate(images):
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"images[{k}] must be (H, W, 3) uint8 RGB; got {image.shape} {image.dtype}")
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise ValueError(f"images[{k}] could not be JPEG-encoded")
        encoded.append(data.tobytes())
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        pickle.dump((encoded, [bool(s) for s in issame]), f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def read_bin(path: str | Path) -> tuple[list[bytes], list[bool]]:
    """``(encoded images, issame)`` from a ``.bin``, without executing anything from the file.

    Files written by Python 2 (insightface's originals) are read with ``encoding='bytes'``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"verification file not found: {path}")
    with open(path, "rb") as f:
        try:
            data = _PlainDataUnpickler(io.BufferedReader(f), encoding="bytes").load()
        except UnsafePickleError as err:
            raise UnsafePickleError(f"{path}: {err}") from None
        except (pickle.UnpicklingError, EOFError, ValueError) as err:
            raise ValueError(f"{path} is not a verification .bin: {err}") from None
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ValueError(f"{path}: expected (images, issame), got {type(data).__name__}")
    images, issame = data
    if not all(isinstance(b, (bytes, bytearray)) for b in images):
        raise ValueError(f"{path}: images must be encoded bytes")
    for k, label in enumerate(issame):
        if not isinstance(label, (bool, int)):
            raise ValueError(f"{path}: pair label {k} is a {type(label).__name__} ({label!r}); labels are booleans")
        if label not in (0, 1):
            raise ValueError(f"{path}: pair label {k} is {label}; labels are 0/False (different) or 1/True (same)")
    if len(images) != 2 * len(issame):
        raise ValueError(f"{path}: {len(images)} images for {len(issame)} pair labels (need 2 per pair)")
    return [bytes(b) for b in images], [bool(s) for s in issame]


def decode(data: bytes) -> np.ndarray:
    """One encoded image to ``(H, W, 3)`` uint8 RGB."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("undecodable image in verification file")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
