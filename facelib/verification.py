"""Verification benchmarks end to end: official pairs -> aligned pack -> embeddings (cached) -> protocol.

Benchmarks: ``lfw`` (View 2, 6,000 pairs), ``cfp-ff`` and ``cfp-fp`` (7,000 pairs each). A subset for
quick runs keeps the first ``k`` same and ``k`` different pairs of every fold (``pairs = 20 k``), so the
10-fold protocol still applies.

Any :class:`Embedder` is evaluated through the same pipeline and pairs: a facelib model in any space
(:class:`facelib.embed.FaceEmbedder`) or a peer model (:mod:`facelib.peers`: OpenCV's SFace, dlib).
Embeddings are cached per pack, embedder (model, space, sha256 of the weights, flip) and rotation, so a
rerun is instant.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from tqdm.auto import tqdm

from ._atomic import atomic_path
from .align import ALIGNED_SIZE, central_box
from .data import BENCHMARKS
from .data.cfp import cfp_root, read_cfp_pairs
from .data.fetch import data_dir, fetch_file
from .data.images import load_image, rotate_image
from .data.lfw import DEEPFUNNELED_FACE_BOX, Pair, lfw_root, read_pairs
from .data.pack import FORMAT_VERSION, AlignedPack, PackError, build_pack, load_pack, save_pack
from .detect import BENCHMARK_DETECTORS
from .embed import FaceEmbedder
from .evaluation import VerificationResult, evaluate, pair_distances
from .models import InputSpec, round_trip, space_roi
from .peers import DlibEmbedder, SFaceEmbedder  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Benchmark:
    name: str
    pairs: list[Pair]
    root: Path
    dataset: str  # which images the pack holds ("lfw", "cfp")
    images: tuple[str, ...] = ()  # the pack's images when more than the pairs use (shared packs)

    def keys(self) -> list[str]:
        return sorted(set(self.images) | {key for pair in self.pairs for key in (pair.a, pair.b)})

    def fallback_box(self, image: np.ndarray):
        if self.dataset == "lfw" and image.shape[:2] == (250, 250):
            return DEEPFUNNELED_FACE_BOX
        return central_box(image)


def subset(pairs: Sequence[Pair], count: int | None) -> list[Pair]:
    """The first ``count / 20`` same and different pairs of each of the 10 folds (all pairs if None)."""
    if count is None:
        return list(pairs)
    if count < 20 or count % 20:
        raise ValueError(f"a subset needs a multiple of 20 pairs (10 folds x same/different); got {count}")
    per_kind = count // 20
    chosen, seen = [], {}
    for pair in pairs:
        slot = (pair.fold, pair.same)
        if seen.get(slot, 0) < per_kind:
            seen[slot] = seen.get(slot, 0) + 1
            chosen.append(pair)
    return chosen


def load_benchmark(name: str, pairs: int | None = None, progress: bool = True) -> Benchmark:
    if name == "lfw":
        return Benchmark(name, subset(read_pairs(fetch_file("lfw/pairs.txt", progress)), pairs), lfw_root(progress),
                         "lfw")
    if name in ("cfp-ff", "cfp-fp"):
        root = cfp_root(progress)
        chosen = {p: subset(read_cfp_pairs(root, p), pairs) for p in ("FF", "FP")}
        # One pack serves both protocols: it holds the images of both sets of pairs.
        images = tuple(sorted({key for ps in chosen.values() for pair in ps for key in (pair.a, pair.b)}))
        return Benchmark(name, chosen[name[-2:].upper()], root, "cfp", images)
    raise ValueError(f"unknown benchmark {name!r}; choose one of {', '.join(BENCHMARKS)}")


def pack_path(benchmark: Benchmark, detector: str) -> Path:
    digest = hashlib.sha256("\n".join(benchmark.keys()).encode()).hexdigest()[:10]
    name = f"{benchmark.dataset}-{len(benchmark.keys())}-{digest}-{detector}-v{FORMAT_VERSION}.npz"
    return data_dir() / "packs" / name


def prepare(benchmark: Benchmark, detector: str | None = None, progress: bool = True,
            device: str = "cpu") -> tuple[AlignedPack, Path]:
    """The benchmark's aligned pack, built once (detect and align every image) and then read from the cache.
    ``detector``: None for the data set's benchmark detector (:data:`facelib.detect.BENCHMARK_DETECTORS`)."""
    from .detect import create_detector

    detector = detector or BENCHMARK_DETECTORS[benchmark.dataset]
    path = pack_path(benchmark, detector)
    if path.is_file():
        try:
            return load_pack(path), path
        except PackError as err:
            log.warning("rebuilding the aligned pack: %s", err)
    pack = build_pack(benchmark.keys(), benchmark.root, create_detector(detector, device=device),
                      benchmark.fallback_box, progress, name=benchmark.name, choice="centre")
    save_pack(pack, path)
    return load_pack(path), path  # every run embeds the faces exactly as the pack stores them


class Embedder(Protocol):
    """What the pipeline evaluates: :class:`facelib.embed.FaceEmbedder` and the peers of :mod:`facelib.peers`.

    A peer that detects and aligns by itself sets ``aligns_itself = True`` and offers
    ``embed_photo(image, fallback_box)`` instead: it is given the benchmark's photos, not the pack's faces.
    """

    key: str | None  # names the embedder in caches and reports; None: never cached (weights in training)

    def embed_faces(self, faces: np.ndarray) -> np.ndarray:
        """``(B, 112, 112, 3)`` uint8 aligned faces to ``(B, D)`` unit-length embeddings."""


def facelib_embedder(model: str | None, space: str | None, weights: str | Path | None = None, flip: bool = True,
                     device: str = "cpu", precision: str = "fp32") -> FaceEmbedder:
    """Former spelling of ``FaceEmbedder(model, space, weights, device, flip=flip, precision=precision)``, kept
    for existing callers: :class:`FaceEmbedder` is itself an :class:`Embedder`."""
    return FaceEmbedder(model, space, weights, device, flip=flip, precision=precision)


def FacelibEmbedder(embedder: FaceEmbedder) -> FaceEmbedder:  # noqa: N802 (former class name)
    """Former wrapper class, now the identity: :class:`FaceEmbedder` is itself an :class:`Embedder`."""
    return embedder


class RoundTripEmbedder:
    """``inner`` (an :class:`Embedder` of aligned faces, such as the SFace teacher) fed every face as a model in
    ``space`` sees it, brought back to the aligned crop (:func:`facelib.models.round_trip`): how much of ``inner``'s
    accuracy survives is how much of the face the space's ``spec.size`` input keeps. ``inner`` never saw such
    faces in training, so its loss on them is an upper bound on what the space discards."""

    def __init__(self, inner: Embedder, space: str, spec: InputSpec | None = None, chunk: int = 256) -> None:
        if getattr(inner, "aligns_itself", False):
            raise ValueError(f"{inner.key}: a peer that aligns the photos itself has no aligned faces to round-trip")
        self.inner, self.space, self.spec, self.chunk = inner, space, spec or InputSpec(), chunk
        space_roi(space)  # an unknown space fails here, not at the first batch
        identity = space == "cartesian" and self.spec.size == ALIGNED_SIZE  # the faces come back unchanged
        self.key = (inner.key if inner.key is None or identity else
                    f"{inner.key}-via-{space}{self.spec.size}{'-ar' if self.spec.keep_aspect_ratio else ''}")

    def faces(self, faces: np.ndarray) -> np.ndarray:
        """``(B, 112, 112, 3)`` uint8 aligned faces -> the same after the round trip, uint8."""
        out = []
        for start in range(0, len(faces), self.chunk):
            batch = torch.from_numpy(np.ascontiguousarray(faces[start:start + self.chunk])).permute(0, 3, 1, 2)
            back = round_trip(batch.float() / 255, self.spec, self.space)
            out.append((back * 255).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy())
        return np.concatenate(out) if out else faces

    def embed_faces(self, faces: np.ndarray) -> np.ndarray:
        """``(B, 112, 112, 3)`` uint8 aligned faces to ``(B, D)`` unit-length embeddings of their round trips."""
        return self.inner.embed_faces(self.faces(faces))


class EnsembleEmbedder:
    """Several embedders of aligned faces as one, with equal weights: every member's unit embedding, concatenated
    and scaled by ``1 / sqrt(n)``, so the result is unit length and the squared distance between two faces is the
    mean of the members' squared distances (the mean of their cosines, as distance). Models trained in different
    warping spaces see the same face through different inputs; where their errors differ, the mean decides better
    than any one of them. The members' embeddings are cached each under its own key
    (:func:`embeddings_for`), so an ensemble of evaluated models costs nothing to evaluate."""

    def __init__(self, members: Sequence[Embedder]) -> None:
        members = list(members)
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least two embedders; got {len(members)}")
        for member in members:
            if getattr(member, "aligns_itself", False) or member.key is None:
                raise ValueError(f"{member.key or 'a model in memory'}: an ensemble member must embed aligned faces "
                                 "and have a cache key (a peer that aligns photos itself or weights in training "
                                 "cannot join one)")
        keys = [m.key for m in members]
        if len(set(keys)) != len(keys):
            raise ValueError(f"an ensemble lists the same embedder twice: {', '.join(keys)}")
        self.members = members
        self.key = "ensemble-" + hashlib.sha256("+".join(keys).encode()).hexdigest()[:16]

    def combine(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        """The members' ``(N, D_i)`` unit embeddings of the same N faces to ``(N, sum D_i)`` unit embeddings."""
        if len(parts) != len(self.members) or len({len(p) for p in parts}) != 1:
            raise ValueError(f"expected embeddings of the same faces from {len(self.members)} members; got "
                             f"{[p.shape for p in parts]}")
        scale = 1.0 / np.sqrt(len(parts))
        return np.concatenate([np.asarray(p, np.float32) * scale for p in parts], axis=1)

    def embed_faces(self, faces: np.ndarray) -> np.ndarray:
        """``(B, 112, 112, 3)`` uint8 aligned faces to ``(B, sum D_i)`` unit-length embeddings."""
        return self.combine([m.embed_faces(faces) for m in self.members])


def space_ensemble(device: str = "cpu", flip: bool = True, precision: str = "fp32",
                   names: Sequence[str] | None = None) -> EnsembleEmbedder:
    """The registered models ``names`` as an :class:`EnsembleEmbedder`; by default the upright model of every
    warping space that the held-out rule picks (:func:`facelib.weights.space_picks`), never chosen on LFW."""
    from .weights import select_models, space_picks

    names = [e.key for e in (space_picks() if names is None else select_models(list(names)))]
    return EnsembleEmbedder([FaceEmbedder(weights=name, device=device, flip=flip, precision=precision)
                             for name in names])


def rotate_faces(faces: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate ``(B, H, W, 3)`` faces in-plane by ``degrees`` (counter-clockwise on screen) about their centre
    (:func:`facelib.data.images.rotate_image`)."""
    return faces if degrees == 0 else np.stack([rotate_image(face, degrees)[0] for face in faces])


def rotate_photo(image: np.ndarray, box: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate an ``(H, W, 3)`` photo in-plane by ``degrees`` (counter-clockwise on screen) about its centre, as
    :func:`rotate_faces` does faces; returns it and the bounding box ``(4,)`` of the rotated ``box``."""
    rotated, matrix = rotate_image(image, degrees)
    x1, y1, x2, y2 = (float(v) for v in box)
    corners = np.array([[x1, y1, 1], [x2, y1, 1], [x1, y2, 1], [x2, y2, 1]]) @ matrix.T
    return rotated, np.concatenate([corners.min(0), corners.max(0)]).astype(np.float32)


def embeddings_for(pack: AlignedPack, pack_file: Path, embedder: Embedder, rotation: float = 0.0,
                   root: Path | None = None, progress: bool = False) -> np.ndarray:
    """``(N, D)`` embeddings of every face in the pack, from the cache or computed and cached (atomically).

    Peers that detect and align by themselves (``aligns_itself``, such as :class:`facelib.peers.DlibEmbedder`)
    read the photos under ``root``, rotated as the faces would be."""
    if isinstance(embedder, EnsembleEmbedder):  # each member from its own cache
        return embedder.combine([embeddings_for(pack, pack_file, member, rotation, root, progress)
                                 for member in embedder.members])
    # keyed by the pack's content, not its name: a changed pack never reads another pack's embeddings
    digest = pack.digest or hashlib.sha256("\0".join(pack.keys).encode() + pack.faces.tobytes()).hexdigest()
    cache = data_dir() / "embeddings" / f"{pack_file.stem}-{digest[:16]}" / f"{embedder.key}-rot{rotation:g}.npy"
    if embedder.key is not None and cache.is_file():
        try:
            embeddings = np.load(cache, allow_pickle=False)
            if embeddings.ndim == 2 and len(embeddings) == len(pack.keys) and np.isfinite(embeddings).all():
                return embeddings
            log.warning("recomputing %s: it holds %s embeddings for a pack of %d faces", cache,
                        embeddings.shape, len(pack.keys))
        except (ValueError, OSError, EOFError) as err:
            log.warning("recomputing the damaged embedding cache %s: %s", cache, err)
    if getattr(embedder, "aligns_itself", False):  # a peer with its own detection and alignment, on the photos
        if root is None:
            raise ValueError(f"{embedder.key} embeds the photos: give the benchmark's image root")
        embeddings = np.stack([embedder.embed_photo(*rotate_photo(load_image(Path(root) / key), box, rotation))
                               for key, box in zip(tqdm(pack.keys, desc=embedder.key, disable=not progress),
                                                   pack.boxes, strict=True)]).astype(np.float32)
    else:
        embeddings = embedder.embed_faces(rotate_faces(pack.faces, rotation)).astype(np.float32)
    if embedder.key is not None:
        with atomic_path(cache) as tmp, open(tmp, "wb") as f:
            np.save(f, embeddings)
    return embeddings


def run(benchmark: Benchmark, pack: AlignedPack, pack_file: Path, embedder: Embedder,
        rotation: float = 0.0) -> tuple[VerificationResult, np.ndarray]:
    """Evaluate one embedder on a benchmark; returns the result and the pair distances ``(N,)``."""
    embeddings = embeddings_for(pack, pack_file, embedder, rotation, benchmark.root)
    a = embeddings[pack.rows_for([p.a for p in benchmark.pairs])]
    b = embeddings[pack.rows_for([p.b for p in benchmark.pairs])]
    distances = pair_distances(a, b)
    same = np.array([p.same for p in benchmark.pairs])
    label = embedder.key or "model in memory"
    result = evaluate(distances, same, name=f"{benchmark.name} {label}" + (f" rot {rotation:g}" if rotation else ""))
    if isinstance(embedder, EnsembleEmbedder):  # its key is a hash: name the members in the report
        result.extra["members"] = [member.key for member in embedder.members]
    result.extra.update({"benchmark": benchmark.name, "embedder": embedder.key, "rotation_degrees": rotation,
                         "pack": pack.report | {"fallback_images": len(pack.report.get("fallback_images", []))}})
    return result, distances


def write_json(path: Path, data: dict) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=1))
    return path


def run_rotations(benchmark: Benchmark, pack: AlignedPack, pack_file: Path, embedder: Embedder,
                  rotations: Sequence[float]) -> list[tuple[float, VerificationResult, np.ndarray]]:
    """:func:`run` with both faces of every pair rotated in-plane by each angle (degrees, counter-clockwise on
    screen, about the aligned crop's centre; see :func:`rotate_faces`): ``[(degrees, result, distances)]``."""
    return [(float(angle), *run(benchmark, pack, pack_file, embedder, float(angle))) for angle in rotations]


def rotation_curve(benchmark: Benchmark, pack: AlignedPack, pack_file: Path, embedder: Embedder,
                   rotations: Sequence[float]) -> list[tuple[float, float]]:
    """``[(degrees, accuracy), ...]`` of :func:`run_rotations`: what :func:`facelib.viz.verification.plot_rotation`
    draws."""
    return [(angle, result.accuracy) for angle, result, _ in run_rotations(benchmark, pack, pack_file, embedder,
                                                                            rotations)]


PHOTO_ROTATION_DETECTOR = "yunet"  # the default pipeline's (facelib verify), not the LFW pack's MTCNN


def prepare_photo_rotation(benchmark: Benchmark, degrees: float, orientation: str = "any",
                           detector: str = PHOTO_ROTATION_DETECTOR, progress: bool = True, device: str = "cpu"
                           ) -> dict[str, tuple[AlignedPack, Path]]:
    """Packs of the benchmark's photos each turned by ``degrees`` (counter-clockwise on screen, on a canvas grown so
    that nothing is cut off: :func:`facelib.data.images.rotate_image` with ``expand``) *before* detection, as a user's
    rotated photo reaches the pipeline: detected in ``orientation``, the face chosen by the benchmark rule (nearest the
    centre) among those that pass the confidence rule. One detection per photo gives two packs, cached:
    ``{"aligned": 5-point alignment, "box": the box-only crop (:func:`facelib.align.box_crop`: framed by the box, turned
    by the quarter turn the face was found in; no landmark is used)}``. A photo without a face falls back to the central
    box of the turned photo (counted)."""
    from .align import box_crop, crop_face, detect_and_align
    from .detect import SEARCH_VERSION, create_detector

    stem = pack_path(benchmark, detector).stem
    search = f"{orientation}{SEARCH_VERSION}" if orientation == "any" else orientation
    paths = {kind: data_dir() / "packs" / f"{stem}-photo{degrees:g}-{search}-{kind}.npz" for kind in ("aligned", "box")}
    packs = {}
    for kind, path in paths.items():
        if path.is_file():
            try:
                packs[kind] = (load_pack(path), path)
            except PackError as err:
                log.warning("rebuilding the turned-photo pack: %s", err)
    if len(packs) == 2:
        return packs
    finder, keys = create_detector(detector, device=device), benchmark.keys()
    start = time.perf_counter()
    faces = {kind: np.zeros((len(keys), ALIGNED_SIZE, ALIGNED_SIZE, 3), np.uint8) for kind in paths}
    boxes, landmarks = np.zeros((len(keys), 4), np.float32), np.zeros((len(keys), 5, 2), np.float32)
    scores, status, weak = np.zeros(len(keys), np.float32), np.empty(len(keys), dtype="<U8"), []
    for k, key in enumerate(tqdm(keys, desc=f"{benchmark.name} photos turned {degrees:g}", disable=not progress)):
        photo = rotate_image(load_image(benchmark.root / key), degrees, expand=True)[0]
        found = detect_and_align(photo, finder, "centre", central_box, orientation=orientation, confident=True)
        faces["aligned"][k] = found.face
        faces["box"][k] = (box_crop(photo, found.box, found.turns) if found.status == "detected" else
                           crop_face(photo, found.box))
        boxes[k], landmarks[k], scores[k], status[k] = found.box, found.landmarks, found.score, found.status
        if found.weak:
            weak.append(key)
    seconds = time.perf_counter() - start
    fallbacks = [key for key, s in zip(keys, status, strict=True) if s == "fallback"]
    for kind, path in paths.items():
        report = {"name": benchmark.name, "images": len(keys), "detected": len(keys) - len(fallbacks),
                  "fallback": len(fallbacks), "face_choice": "centre", "detector": detector, "format": FORMAT_VERSION,
                  "photo_rotation": degrees, "orientation": orientation, "alignment": kind, "weak": len(weak),
                  "seconds": round(seconds, 1), "ms_per_image": round(1000 * seconds / max(len(keys), 1), 1),
                  "fallback_images": fallbacks, "weak_images": weak}
        save_pack(AlignedPack(list(keys), faces[kind], boxes, landmarks, scores, status, report), path)
        packs[kind] = (load_pack(path), path)
    return packs


def run_photo_rotations(benchmark: Benchmark, embedder: Embedder, rotations: Sequence[float], orientation: str = "any",
                        alignment: str = "aligned", detector: str = PHOTO_ROTATION_DETECTOR, progress: bool = True
                        ) -> list[tuple[float, VerificationResult, np.ndarray]]:
    """:func:`run` on the benchmark's photos turned by each angle before detection (:func:`prepare_photo_rotation`),
    ``alignment`` ``"aligned"`` (5 points) or ``"box"``: ``[(degrees, result, distances)]``; each result's ``extra``
    holds the pack's report (photos without a face, weak detections, detection ms a photo)."""
    if alignment not in ("aligned", "box"):
        raise ValueError(f"alignment must be 'aligned' or 'box'; got {alignment!r}")
    out = []
    for angle in rotations:
        pack, path = prepare_photo_rotation(benchmark, float(angle), orientation, detector, progress)[alignment]
        result, distances = run(benchmark, pack, path, embedder)
        result.extra.update({"photo_rotation": float(angle), "orientation": orientation, "alignment": alignment})
        out.append((float(angle), result, distances))
    return out


def cfp_folder(key: str) -> str:
    """The CFP identity folder (``"001"``) of an image key (``Data/Images/001/frontal/01.jpg``)."""
    parts = Path(key).parts
    if len(parts) < 4 or parts[:2] != ("Data", "Images"):
        raise ValueError(f"not a CFP image key: {key!r}")
    return parts[2]


def pool_cfp_folders(progress: bool = False) -> set[str]:
    """The CFP identity folders inside the LFW-disjoint training pool (:func:`facelib.data.folders.training_pool`):
    the 324 CFP people every pool-trained model may have seen, frontal and profile."""
    from .data.folders import training_pool
    from .data.lfw import lfw_people

    pool = training_pool(lfw_people(progress), progress=progress)
    return {identity.split("/", 1)[1] for identity in pool.identities if identity.startswith("cfp/")}


def clean_pairs(benchmark: Benchmark, excluded: set[str] | None = None) -> np.ndarray:
    """``(N,)`` bool: the CFP pairs both of whose identities are outside the training pool (``excluded``: the
    pool's CFP folders, :func:`pool_cfp_folders` by default), so that no model that trained on the pool has seen
    either face's person."""
    if benchmark.dataset != "cfp":
        raise ValueError(f"identity-clean pairs are defined for CFP; got {benchmark.name}")
    excluded = pool_cfp_folders() if excluded is None else excluded
    return np.array([cfp_folder(p.a) not in excluded and cfp_folder(p.b) not in excluded for p in benchmark.pairs])


def clean_benchmark(name: str, excluded: set[str] | None = None, progress: bool = True) -> Benchmark:
    """CFP-FF or CFP-FP (``name``) on its identity-clean pairs (:func:`clean_pairs`), each in its protocol fold;
    its pack holds the clean images of both protocols only (about a third of CFP's photos)."""
    excluded = pool_cfp_folders() if excluded is None else excluded
    both = {b: load_benchmark(b, progress=progress) for b in ("cfp-ff", "cfp-fp")}
    kept = {b: [p for p, keep in zip(bench.pairs, clean_pairs(bench, excluded), strict=True) if keep]
            for b, bench in both.items()}
    images = tuple(sorted({key for pairs in kept.values() for pair in pairs for key in (pair.a, pair.b)}))
    return Benchmark(f"{name} clean", kept[name], both[name].root, "cfp", images)


def run_by_protocol_folds(benchmark: Benchmark, pack: AlignedPack, pack_file: Path, embedder: Embedder
                          ) -> tuple[VerificationResult, np.ndarray]:
    """:func:`run`, with every pair evaluated in its protocol fold (for a subset of a protocol's pairs whose folds
    are uneven, as the identity-clean CFP pairs)."""
    _, distances = run(benchmark, pack, pack_file, embedder)
    result = evaluate(distances, np.array([p.same for p in benchmark.pairs]), name=benchmark.name,
                      fold_ids=np.array([p.fold for p in benchmark.pairs]))
    return result, distances


def load_holdout(count: int = 30, seed: int = 0, detector: str = "yunet", progress: bool = True
                 ) -> tuple[AlignedPack, Path, np.ndarray]:
    """The aligned faces of the pool identities every shipped recipe held out (``holdout_identities=30``, seed
    0; :meth:`facelib.data.folders.Pool.holdout_samples`), as a cached pack, with their ``(N,)`` identity labels:
    the faces on which thresholds are calibrated (no model trained on them; no test set is read)."""
    from .data.folders import training_pool
    from .data.lfw import lfw_people
    from .detect import create_detector

    samples = training_pool(lfw_people(progress), progress=progress).holdout_samples(count, seed)
    root = Path(os.path.commonpath([s.path for s in samples]))
    keys = [str(s.path.relative_to(root)) for s in samples]
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:10]
    path = data_dir() / "packs" / f"holdout-{len(keys)}-{digest}-{detector}-v{FORMAT_VERSION}.npz"
    pack = None
    if path.is_file():
        try:
            pack = load_pack(path)
        except PackError as err:
            log.warning("rebuilding the held-out pack: %s", err)
    if pack is None:
        built = build_pack(keys, root, create_detector(detector), central_box, progress, name="holdout",
                           choice="centre")
        save_pack(built, path)
        pack = load_pack(path)
    names = {key: s.identity for key, s in zip(keys, samples, strict=True)}
    identities = sorted(set(names.values()))
    labels = np.array([identities.index(names[key]) for key in pack.keys])
    return pack, path, labels
