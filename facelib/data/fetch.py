"""Find or fetch the public face data sets, with checksums, resumable downloads and a progress bar.

Every file is named by its path relative to a data root (``lfw/pairs.txt``) and checked against
the SHA-256 in :data:`FILES`. Where the files come from:

* ``FACELIB_DATA_MIRROR`` (environment): a local folder or an ``http(s)://`` / ``file://`` URL laid out
  like the official downloads (``../shared/data`` in this project's CI). A local folder is read in
  place: nothing is copied.
* otherwise the publisher's URL in :data:`FILES`, downloaded into the cache.

The cache is ``FACELIB_DATA_DIR`` (default ``~/.cache/facelib``). Downloads go to ``<file>.part``
(resumed with an HTTP range request when interrupted), are verified, then renamed into place, so
a file in the cache is always complete and checked. Archives are extracted the same way: into a
temporary folder that is renamed when complete.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from .._atomic import default_permissions, sweep_dead

log = logging.getLogger(__name__)

MIRROR_ENV = "FACELIB_DATA_MIRROR"
DATA_DIR_ENV = "FACELIB_DATA_DIR"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One published file: where the publisher serves it, and its checksum."""

    path: str  # relative to a data root, e.g. "lfw/pairs.txt"
    url: str  # the publisher's address
    sha256: str


_LFW = "http://vis-www.cs.umass.edu/lfw/"
FILES: dict[str, RemoteFile] = {
    f.path: f
    for f in (
        RemoteFile("lfw/lfw-deepfunneled.tgz", _LFW + "lfw-deepfunneled.tgz",
                   "6aa54740c1430613d4f6dc77032eaaa6e7c69d572ebe3a476dc76a1561301fa2"),
        RemoteFile("lfw/pairs.txt", _LFW + "pairs.txt",
                   "ea42330c62c92989f9d7c03237ed5d591365e89b3e649747777b70e692dc1592"),
        RemoteFile("lfw/people.txt", _LFW + "people.txt",
                   "bc8fa2b7f25c895cf7efb6de4f4fc27ca8b8d1cfa63350ad8b96eae2b198d365"),
        RemoteFile("lfw/pairsDevTrain.txt", _LFW + "pairsDevTrain.txt",
                   "1d454dada7dfeca0e7eab6f65dc4e97a6312d44cf142207be28d688be92aabfa"),
        RemoteFile("lfw/pairsDevTest.txt", _LFW + "pairsDevTest.txt",
                   "7cb06600ea8b2814ac26e946201cdb304296262aad67d046a16a7ec85d0ff87c"),
        RemoteFile("lfw/peopleDevTrain.txt", _LFW + "peopleDevTrain.txt",
                   "2e58df13ba4cc143189336e001cc2c195f1dfa5b29a6475c02857be353c2a2fa"),
        RemoteFile("lfw/peopleDevTest.txt", _LFW + "peopleDevTest.txt",
                   "c3ed1f90499473401542101a56c14c1d82396bb8218c67a356d7460601047555"),
        RemoteFile("cfp/cfp-dataset.tgz", "http://www.cfpw.io/cfp-dataset.tgz",
                   "12fcea7f541023a7a65690667555418f1b4c27a8353dbd29ad2d0af42d53b526"),
        RemoteFile("orl/att_faces.tgz", "https://cam-orl.co.uk/att_faces.tgz",
                   "94eaff52e516a1d294cd16cff7df514bdf1daa94c4084d9af389d461d57722ed"),
        # A cropped CelebA subset made for this project's mirror (see data/README.md): it has no
        # public address, so it is only found through FACELIB_DATA_MIRROR.
        RemoteFile("celeba299/celeba-299.tgz", "",
                   "675657d8f0fe528dc2740dc4934ad96ffd453612b6dadd55423a9acbb629d380"),
        RemoteFile("celeba299/missing.txt", "",
                   "6db973c1e08dc4d02afb9c097515a3beac51c6ff1e5858ca5c6fbb464645ed20"),
    )
}

DATASETS: dict[str, tuple[str, ...]] = {
    "lfw": ("lfw/lfw-deepfunneled.tgz", "lfw/pairs.txt", "lfw/people.txt", "lfw/pairsDevTrain.txt",
            "lfw/pairsDevTest.txt", "lfw/peopleDevTrain.txt", "lfw/peopleDevTest.txt"),
    "cfp": ("cfp/cfp-dataset.tgz",),
    "orl": ("orl/att_faces.tgz",),
    "celeba299": ("celeba299/celeba-299.tgz", "celeba299/missing.txt"),
}


class DataError(RuntimeError):
    """A data file is missing, corrupt or cannot be fetched; the message says which and why."""


def data_dir() -> Path:
    """The cache folder: ``$FACELIB_DATA_DIR`` or ``~/.cache/facelib``."""
    return Path(os.environ.get(DATA_DIR_ENV) or Path.home() / ".cache" / "facelib").expanduser()


def mirror() -> str | None:
    """The configured mirror (``$FACELIB_DATA_MIRROR``), or None."""
    return os.environ.get(MIRROR_ENV) or None


def sha256sum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path, expected: str, origin: str) -> None:
    actual = sha256sum(path)
    if actual != expected:
        raise DataError(f"checksum mismatch for {path} (from {origin}): sha256 {actual}, expected {expected}")


def _source_url(remote: RemoteFile, mirror_root: str | None) -> str:
    if mirror_root is None:
        if not remote.url:
            raise DataError(f"{remote.path} has no public address; set {MIRROR_ENV} to a mirror that holds it")
        return remote.url
    if "://" not in mirror_root:
        return Path(mirror_root).resolve().joinpath(remote.path).as_uri()
    return mirror_root.rstrip("/") + "/" + urllib.parse.quote(remote.path)


def download(url: str, dest: Path, sha256: str, progress: bool = True, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` atomically, resuming a ``dest.part`` left by an interrupted run.

    The file appears at ``dest`` only once complete and matching ``sha256``; a mismatch deletes
    the partial file and raises :class:`DataError`.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "facelib"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:  # the part file is already complete
            response = None
        else:
            raise DataError(f"cannot fetch {url}: HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError) as err:
        raise DataError(f"cannot fetch {url}: {getattr(err, 'reason', err)}") from err
    if response is not None:
        with response:
            resumed = offset and getattr(response, "status", None) == 206
            if not resumed:
                offset = 0
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length else None
            with open(part, "ab" if resumed else "wb") as f, tqdm(
                total=total, initial=offset, unit="B", unit_scale=True, desc=dest.name, disable=not progress,
                leave=False,
            ) as bar:
                while chunk := response.read(_CHUNK):
                    f.write(chunk)
                    bar.update(len(chunk))
    try:
        _verify(part, sha256, url)
    except DataError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, dest)
    return dest


def fetch_file(path: str, progress: bool = True) -> Path:
    """Local path of the data file ``path`` (e.g. ``"lfw/pairs.txt"``), fetching it if needed.

    A mirror that is a local folder is used in place (its checksum is verified once per process).
    """
    if path not in FILES:
        raise DataError(f"unknown data file {path!r}; known: {', '.join(sorted(FILES))}")
    remote = FILES[path]
    root = mirror()
    if root is not None and "://" not in root:
        local = Path(root).expanduser().resolve() / remote.path
        if not local.is_file():
            raise DataError(f"{local} not found: {MIRROR_ENV}={root} does not hold {remote.path}")
        if str(local) not in _VERIFIED:
            _verify(local, remote.sha256, str(local))
            _VERIFIED.add(str(local))
        return local
    dest = data_dir() / remote.path
    if dest.is_file():
        return dest
    log.info("fetching %s from %s", remote.path, _source_url(remote, root))
    return download(_source_url(remote, root), dest, remote.sha256, progress=progress)


_VERIFIED: set[str] = set()


def extract(archive: Path, dest_root: Path | None = None) -> Path:
    """Extract a ``.tgz`` once into ``dest_root`` (default: the cache, beside the archive's path).

    Returns the folder that holds the archive's members. Extraction goes to a temporary folder
    renamed into place when complete, so an interrupted run leaves nothing half-written. Members
    that would land outside the folder are refused.
    """
    archive = Path(archive)
    if dest_root is None:
        dest_root = data_dir() / archive.parent.name
    done = Path(dest_root) / (archive.name + ".extracted")
    if done.parent.is_dir():  # what killed extractions left, even when the archive is extracted already
        sweep_stale_extractions(done.parent, archive.name)
    if done.is_dir():
        return done
    done.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{archive.name}{_EXTRACTING}{os.getpid()}.", dir=done.parent))
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(tmp, filter="data")
        default_permissions(tmp, directory=True)
        os.replace(tmp, done)
    except (tarfile.TarError, OSError) as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if done.is_dir():  # another process finished first
            return done
        raise DataError(f"cannot extract {archive}: {err}") from err
    except BaseException:  # KeyboardInterrupt, MemoryError...: never leave a half-extracted folder behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return done


_EXTRACTING = ".extracting-"
STALE_SECONDS = 3600.0  # an extraction folder untouched this long belongs to a run that died


def sweep_stale_extractions(folder: Path, archive_name: str, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove the temporary extraction folders of ``archive_name`` in ``folder`` that runs which died left
    behind: those named with a process id whose process is dead, and unnamed ones (an older facelib's)
    untouched for ``older_than`` seconds; returns what was removed."""
    removed = sweep_dead(Path(folder), archive_name + _EXTRACTING)
    for stale in Path(folder).glob(archive_name + _EXTRACTING + "*"):
        if stale in removed or stale.name[len(archive_name + _EXTRACTING):].split(".", 1)[0].isdigit():
            continue
        if stale.is_dir() and time.time() - stale.stat().st_mtime > older_than:
            shutil.rmtree(stale, ignore_errors=True)
            removed.append(stale)
            log.info("removed %s, left by an interrupted extraction", stale)
    return removed


def fetch(dataset: str, progress: bool = True) -> dict[str, Path]:
    """Fetch every file of a data set (``lfw``, ``cfp``, ``orl``); returns ``{relative path: local path}``."""
    if dataset not in DATASETS:
        raise DataError(f"unknown data set {dataset!r}; choose one of {', '.join(DATASETS)}")
    return {path: fetch_file(path, progress) for path in DATASETS[dataset]}
