"""Labeled Faces in the Wild (deep-funneled): where the photos are, by name."""

from __future__ import annotations

from pathlib import Path

from .fetch import extract, fetch_file

# Deep-funneled LFW photos are 250 x 250 with the face centred and upright; this box (x1, y1, x2, y2)
# covers the face from the eyebrows to the chin on most of them. It stands in for a detector where
# none is needed (teaching the warps); verification uses detected boxes and landmarks.
DEEPFUNNELED_FACE_BOX = (78.0, 78.0, 172.0, 188.0)


def lfw_root(progress: bool = True) -> Path:
    """Folder of the extracted photos, ``<root>/<Name>/<Name>_<NNNN>.jpg`` (fetched and extracted once)."""
    return extract(fetch_file("lfw/lfw-deepfunneled.tgz", progress)) / "lfw-deepfunneled"


def image_path(name: str, number: int, root: Path | None = None) -> Path:
    """Path of photo ``number`` (1-based, as in ``pairs.txt``) of person ``name``; checks that it exists."""
    root = lfw_root() if root is None else Path(root)
    path = root / name / f"{name}_{int(number):04d}.jpg"
    if not path.is_file():
        raise FileNotFoundError(f"LFW has no photo {name} #{number}: {path} does not exist")
    return path
