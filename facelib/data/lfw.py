"""Labeled Faces in the Wild (deep-funneled): photos by name, and the official protocol files.

* View 2 (``pairs.txt``): 10 folds of 300 same-person pairs ``Name n1 n2`` then 300 different-person
  pairs ``Name1 n1 Name2 n2``; ``people.txt`` gives the identity-disjoint folds.
* View 1 (``pairsDevTrain.txt``, ``pairsDevTest.txt``): one fold, all same pairs then all different.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .fetch import extract, fetch_file

# Deep-funneled LFW photos are 250 x 250 with the face centred and upright; this box (x1, y1, x2, y2)
# covers the face from the eyebrows to the chin on most of them. It stands in for a detector where
# none is needed (teaching the warps), and is the documented fallback when detection fails.
DEEPFUNNELED_FACE_BOX = (78.0, 78.0, 172.0, 188.0)


@dataclass(frozen=True)
class Pair:
    """One verification pair: image keys relative to the data set root, the label and the fold."""

    a: str
    b: str
    same: bool
    fold: int


def lfw_root(progress: bool = True) -> Path:
    """Folder of the extracted photos, ``<root>/<Name>/<Name>_<NNNN>.jpg`` (fetched and extracted once)."""
    return extract(fetch_file("lfw/lfw-deepfunneled.tgz", progress)) / "lfw-deepfunneled"


def image_key(name: str, number: int) -> str:
    """``Name/Name_NNNN.jpg``: a photo's path relative to the LFW root."""
    return f"{name}/{name}_{int(number):04d}.jpg"


def image_path(name: str, number: int, root: Path | None = None) -> Path:
    """Path of photo ``number`` (1-based, as in ``pairs.txt``) of person ``name``; checks that it exists."""
    root = lfw_root() if root is None else Path(root)
    path = root / image_key(name, number)
    if not path.is_file():
        raise FileNotFoundError(f"LFW has no photo {name} #{number}: {path} does not exist")
    return path


def _parse_pair(fields: list[str], fold: int, where: str) -> Pair:
    if len(fields) == 3:
        return Pair(image_key(fields[0], fields[1]), image_key(fields[0], fields[2]), True, fold)
    if len(fields) == 4:
        return Pair(image_key(fields[0], fields[1]), image_key(fields[2], fields[3]), False, fold)
    raise ValueError(f"{where}: expected 'Name n1 n2' or 'Name1 n1 Name2 n2', got {' '.join(fields)!r}")


def read_pairs(path: str | Path) -> list[Pair]:
    """Pairs of ``pairs.txt`` (View 2, folds 0-9) or ``pairsDev*.txt`` (View 1, fold 0), in file order."""
    path = Path(path)
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    header = lines[0]
    if len(header) == 2:
        folds, per_class = int(header[0]), int(header[1])
    elif len(header) == 1:
        folds, per_class = 1, int(header[0])
    else:
        raise ValueError(f"{path}:1: expected a header 'folds pairs' or 'pairs', got {' '.join(header)!r}")
    body = lines[1:]
    if len(body) != folds * 2 * per_class:
        raise ValueError(f"{path}: header promises {folds * 2 * per_class} pairs, the file has {len(body)}")
    pairs = []
    for index, fields in enumerate(body):
        fold, position = divmod(index, 2 * per_class)
        pair = _parse_pair(fields, fold, f"{path}:{index + 2}")
        if pair.same != (position < per_class):
            raise ValueError(f"{path}:{index + 2}: a {'same' if pair.same else 'different'}-person pair where the "
                             f"protocol puts the other kind")
        pairs.append(pair)
    return pairs


def read_people(path: str | Path) -> list[list[tuple[str, int]]]:
    """The folds of ``people.txt`` / ``peopleDev*.txt``: per fold, ``(name, number of photos)``."""
    lines = [line.split() for line in Path(path).read_text().splitlines() if line.strip()]
    folds, index, result = int(lines[0][0]), 1, []
    if len(lines[1]) == 2:  # the View 1 files have no per-fold count: one fold of everyone listed
        return [[(name, int(count)) for name, count in lines[1:]]]
    for _ in range(folds):
        count = int(lines[index][0])
        result.append([(name, int(n)) for name, n in lines[index + 1:index + 1 + count]])
        index += 1 + count
    return result


def lfw_pairs(view: str = "view2", progress: bool = True) -> list[Pair]:
    """The official pairs: ``view2`` (6,000, 10 folds), ``dev-train`` (2,200) or ``dev-test`` (1,000)."""
    files = {"view2": "lfw/pairs.txt", "dev-train": "lfw/pairsDevTrain.txt", "dev-test": "lfw/pairsDevTest.txt"}
    if view not in files:
        raise ValueError(f"unknown LFW view {view!r}; choose one of {', '.join(files)}")
    return read_pairs(fetch_file(files[view], progress))


def lfw_people(progress: bool = True) -> list[str]:
    """Every LFW identity name (from ``people.txt``)."""
    return [name for fold in read_people(fetch_file("lfw/people.txt", progress)) for name, _ in fold]
